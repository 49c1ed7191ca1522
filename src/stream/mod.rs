//! The async adapter: a [`WebSocketStream`] over any tokio
//! `AsyncRead + AsyncWrite`, which is a `Stream` of [`Message`]s and a
//! `Sink` for them, built on the sans-IO core. Needs the `tokio` feature.
//!
//! ```
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto::stream::{self, Message};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (client_io, server_io) = tokio::io::duplex(64 * 1024);
//! let server = tokio::spawn(async move {
//!     let mut ws = stream::accept(server_io).await?;
//!     while let Some(message) = ws.next().await {
//!         let message = message?;
//!         if message.is_text() || message.is_binary() {
//!             ws.send(message).await?; // echo
//!         }
//!     }
//!     Ok::<_, stream::Error>(())
//! });
//!
//! let request = http::Request::get("ws://localhost/").body(())?;
//! let (mut ws, response) = stream::client_async(request, client_io).await?;
//! assert_eq!(response.status(), 101);
//! ws.send(Message::text("hello")).await?;
//! assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
//! ws.close(None).await?;
//! while ws.next().await.is_some() {} // the server's close reply, then the end
//! server.await??;
//! # Ok(())
//! # }
//! ```
//!
//! # What the stream does for you
//!
//! - **Pings and the close handshake**: pongs and close replies are queued
//!   by the core as frames are decoded, and written by whichever of
//!   `poll_next`, `poll_ready`, `poll_flush` or `poll_close` runs next. The
//!   sink's flush also reads what has arrived, so a connection that only
//!   writes still answers pings and sees the peer's close.
//! - **Batching**: `poll_next` decodes every buffered frame before it
//!   writes, and then writes every queued frame in one vectored write. An
//!   echo loop that `feed`s its replies and lets `next()` flush them makes
//!   one read and one write per wakeup (see [Batching](#batching) below);
//!   `send` instead flushes after every message.
//! - **Back-pressure**: `poll_ready` waits while more than
//!   [`StreamConfig::write_high_water`] bytes are queued, and `poll_next`
//!   stops reading while the pongs it queued are over that mark, so a peer
//!   that never reads cannot grow our memory past it (plus one message and
//!   the pongs of one read). What the sink queued never stops the reader,
//!   so split halves can send and receive at full speed at once.
//! - **Timeouts**: the close timeout ends a close handshake the peer does
//!   not finish; the optional keepalive pings and fails a silent peer. Both
//!   run while the stream or the sink is polled.
//! - **Cancellation safety**: every piece of state lives in the stream,
//!   none in the futures that poll it. Dropping a `next()` future (say, the
//!   losing branch of a `tokio::select!`) loses no message: the next call
//!   gets it.
//! - **Idle memory**: while waiting for input with nothing buffered, the
//!   stream holds no receive buffer; reads land on the stack first and only
//!   what arrived is copied into the connection.
//!
//! # Batching
//!
//! To answer a burst of messages with one write, queue each reply with
//! `SinkExt::feed` (which does not flush) and go back to `next()`: it
//! returns the next buffered message at once, and once none is left it
//! writes everything queued in one vectored write before it reads again.
//! This is the loop of `examples/echo_server.rs`:
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto::stream::{Message, WebSocketStream};
//!
//! # async fn echo(mut ws: WebSocketStream<tokio::net::TcpStream, wsproto::Server>)
//! # -> Result<(), wsproto::stream::Error> {
//! while let Some(message) = ws.next().await {
//!     match message? {
//!         message @ (Message::Text(_) | Message::Binary(_)) => ws.feed(message).await?,
//!         // Pongs and the close reply are queued and written for us.
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! `feed` waits only while more than
//! [`StreamConfig::write_high_water`] bytes are queued. A loop that stops
//! calling `next()` (say, to wait on something else) should `flush` first,
//! or its replies wait with it.
//!
//! # The end of the stream
//!
//! The peer's close frame comes out as [`Message::Close`]; the reply is
//! already on its way. The stream then ends (`None`) once the close
//! handshake is complete and the transport is shut down (a client first
//! waits, within the close timeout, for the server to end the transport, as
//! RFC 6455 §7.1.1 asks). Sending our own close ([`WebSocketStream::close`],
//! `SinkExt::close` or a [`Message::Close`]) does not end the stream: keep
//! reading until `None` to see the messages still in flight and the peer's
//! reply.
pub mod config;
mod driver;
mod error;
pub mod handshake;
mod message;
mod split;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_core::stream::FusedStream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};

pub use config::StreamConfig;
pub use error::Error;
pub use handshake::{accept, accept_with, client_async, client_async_with};
pub use message::Message;
pub use split::{ReadHalf, ReuniteError, WriteHalf};

use crate::config::Config;
use crate::extensions::Extension;
use crate::frame::CloseFrame;
use crate::lifecycle::State;
use crate::phase::Open;
use crate::role::Role;
use driver::Driver;

/// A WebSocket connection over a tokio transport: a
/// `Stream<Item = Result<Message, Error>>` and a `Sink<Message>`.
///
/// Build it from an open sans-IO connection with [`from_open`](Self::from_open),
/// or let [`accept`] or [`client_async`] run the opening handshake. See the
/// [module docs](self) for what it drives on its own.
pub struct WebSocketStream<IO, R: Role> {
    driver: Driver<IO, R>,
}

// The role is a marker type; pinning never reaches it.
impl<IO: Unpin, R: Role> Unpin for WebSocketStream<IO, R> {}

impl<IO, R: Role> std::fmt::Debug for WebSocketStream<IO, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.driver.fmt(f)
    }
}

impl<IO, R: Role> WebSocketStream<IO, R> {
    /// Wraps an open connection whose handshake already happened on `io`.
    /// What the connection already holds stays: bytes that came behind the
    /// handshake are decoded first, and the 101 response of a server's
    /// [`accept`](crate::handshake::IncomingRequest::accept) is written first.
    ///
    /// ```
    /// use futures_util::{SinkExt, StreamExt};
    /// use wsproto::handshake::{Accept, ServerHandshake};
    /// use wsproto::stream::{Message, StreamConfig, WebSocketStream};
    /// use wsproto::{Config, Pending, Server};
    /// use tokio::io::AsyncReadExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (client_io, mut server_io) = tokio::io::duplex(1 << 16);
    /// let request = http::Request::get("ws://localhost/").body(())?;
    /// let client = tokio::spawn(async move {
    ///     let (mut ws, _) = wsproto::stream::client_async(request, client_io).await?;
    ///     ws.send(Message::text("hi")).await?;
    ///     Ok::<_, wsproto::stream::Error>(ws)
    /// });
    /// // The handshake by hand (say, to look at the request first)...
    /// let mut buf = Vec::with_capacity(4096);
    /// server_io.read_buf(&mut buf).await?;
    /// let ServerHandshake::Request(incoming) =
    ///     Pending::<Server>::new(Config::default(), Vec::new()).receive(&buf)?
    /// else {
    ///     unreachable!("one read holds this small request")
    /// };
    /// let open = incoming.accept(Accept::new())?;
    /// // ...then the stream takes over and writes the queued 101 first.
    /// let mut ws = WebSocketStream::from_open(server_io, open, StreamConfig::default());
    /// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hi")));
    /// # let _client = client.await??;
    /// # Ok(()) }
    /// ```
    pub fn from_open(io: IO, open: Open<R>, config: StreamConfig) -> Self {
        Self::from_driver(Driver::new(io, open, config))
    }

    fn from_driver(driver: Driver<IO, R>) -> Self {
        Self { driver }
    }

    /// The transport.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// let io: &tokio::io::DuplexStream = server.get_ref();
    /// # let _ = io;
    /// # Ok(()) }
    /// ```
    pub fn get_ref(&self) -> &IO {
        self.driver.get_ref()
    }

    /// The transport, mutably. Reading or writing it directly corrupts the
    /// WebSocket stream.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// let io = server.get_mut(); // e.g. to set a socket option
    /// # let _ = io;
    /// # Ok(()) }
    /// ```
    pub fn get_mut(&mut self) -> &mut IO {
        self.driver.get_mut()
    }

    /// Gives the transport back. Bytes still queued or not yet decoded are
    /// dropped: flush first if they matter.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// use futures_util::SinkExt;
    /// server.flush().await?;
    /// let io = server.into_inner();
    /// # drop(io);
    /// # Ok(()) }
    /// ```
    pub fn into_inner(self) -> IO {
        self.driver.into_inner()
    }

    /// The subprotocol the opening handshake agreed on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// assert_eq!(server.subprotocol(), None); // none was offered
    /// # Ok(()) }
    /// ```
    pub fn subprotocol(&self) -> Option<&str> {
        self.driver.websocket().subprotocol()
    }

    /// The negotiated extensions.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// assert!(client.extensions().is_empty()); // client_async offers none
    /// # Ok(()) }
    /// ```
    pub fn extensions(&self) -> &[Box<dyn Extension>] {
        self.driver.websocket().extensions()
    }

    /// The adapter's settings.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// assert_eq!(server.config().close_timeout, std::time::Duration::from_secs(5));
    /// # Ok(()) }
    /// ```
    pub fn config(&self) -> &StreamConfig {
        self.driver.config()
    }

    /// The connection's protocol settings (limits, message mode).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// assert_eq!(server.protocol_config().max_message_size, 64 << 20);
    /// # Ok(()) }
    /// ```
    pub fn protocol_config(&self) -> &Config {
        self.driver.websocket().config()
    }

    /// Where the connection is in its lifecycle.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// use wsproto::lifecycle::State;
    /// assert_eq!(server.state(), &State::Open);
    /// client.close(None).await?;
    /// assert_eq!(client.state(), &State::LocalClosing);
    /// # Ok(()) }
    /// ```
    pub fn state(&self) -> &State {
        self.driver.state()
    }

    /// Splits the stream into a reader and a writer, for two tasks.
    ///
    /// Both keep the connection alive on their own: the reader writes the
    /// pongs and close replies its reads queue; the writer's `poll_flush`
    /// first reads what has arrived (unless the reader has been polled since
    /// the last flush), so pings are answered and the peer's close is seen
    /// while only the writer runs. What the writer reads waits for the
    /// reader, in order: the writer stops reading at a data or close message,
    /// or once a few pongs wait, until the reader takes them; of the pings
    /// (each answered already) only the latest few are kept. The same holds
    /// for an unsplit stream whose sink is used without its stream.
    ///
    /// Put the halves back together with [`ReadHalf::reunite`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// use futures_util::{SinkExt, StreamExt};
    /// use wsproto::stream::Message;
    ///
    /// let (mut reader, mut writer) = server.split();
    /// let echo = tokio::spawn(async move {
    ///     while let Some(Ok(message)) = reader.next().await {
    ///         println!("got {message:?}");
    ///     }
    /// });
    /// writer.send(Message::text("from the writer task")).await?;
    /// assert_eq!(client.next().await.transpose()?, Some(Message::text("from the writer task")));
    /// drop(writer);
    /// client.close(None).await?;
    /// while client.next().await.is_some() {}
    /// echo.await?;
    /// # Ok(()) }
    /// ```
    pub fn split(self) -> (ReadHalf<IO, R>, WriteHalf<IO, R>) {
        split::split(self.driver)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> WebSocketStream<IO, R> {
    /// Starts the close handshake with `frame` (`None`: code 1000) and
    /// writes the close frame out. Keep reading until the stream ends to
    /// finish the handshake.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// # let request = http::Request::get("ws://localhost/").body(())?;
    /// # let (server, client) = tokio::join!(
    /// #     wsproto::stream::accept(server_io),
    /// #     wsproto::stream::client_async(request, client_io),
    /// # );
    /// # let (mut server, mut client) = (server?, client?.0);
    /// use futures_util::StreamExt;
    /// use wsproto::{CloseCode, CloseFrame};
    ///
    /// client.close(Some(CloseFrame::new(CloseCode::GOING_AWAY, "bye"))).await?;
    /// // The server sees the close as a message and replies on its own.
    /// let closed = server.next().await.transpose()?;
    /// assert!(closed.is_some_and(|m| m.is_close()));
    /// drop(server); // the server ends the transport (RFC 6455 §7.1.1)
    /// while client.next().await.is_some() {} // the reply, then the end of the stream
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the write fails, [`Error::AlreadyClosed`] when the
    /// connection had ended.
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        let frame = frame.unwrap_or_else(|| CloseFrame::new(crate::CloseCode::NORMAL, ""));
        let started = self.driver.state().may_send_close();
        if started {
            self.driver.start_send(Message::Close(Some(frame)))?;
        }
        std::future::poll_fn(|cx| self.driver.poll_flush(cx)).await
    }

    /// Writes what the handshake queued (a server's 101).
    pub(crate) async fn flush_handshake(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.driver.poll_flush(cx)).await
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> Stream for WebSocketStream<IO, R> {
    type Item = Result<Message, Error>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().driver.poll_next(cx)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> FusedStream for WebSocketStream<IO, R> {
    fn is_terminated(&self) -> bool {
        self.driver.is_terminated()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> Sink<Message> for WebSocketStream<IO, R> {
    type Error = Error;

    #[inline]
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_ready(cx)
    }

    #[inline]
    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().driver.start_send(item)
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_close(cx)
    }
}
