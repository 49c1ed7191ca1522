//! hyper 1: WebSockets on hyper connections. On the server, [`upgrade`]
//! turns a request into a [`WebSocketStream`]: an HTTP/1.1 upgrade (RFC
//! 6455, validated by the core's
//! [`handshake::upgrade`](crate::handshake::upgrade())) or an HTTP/2
//! extended CONNECT (RFC 8441, by
//! [`handshake::extended_connect::upgrade`]).
//! It returns the response for the service to send (101 or 200) and a
//! future that resolves to the stream once hyper hands the connection (or
//! the HTTP/2 stream) over (`hyper::upgrade::on`, wrapped in [`TokioIo`]).
//! On the client, [`connect_h2`] opens a WebSocket on one stream of an
//! HTTP/2 client connection. Needs the `hyper` feature.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//!
//! async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
//!     let (response, websocket) = match wsproto::hyper::upgrade(&mut request) {
//!         Ok(upgrade) => upgrade,
//!         // 400 for a malformed request, 426 + Sec-WebSocket-Version: 13 for another version.
//!         Err(err) => return Ok(err.to_response()),
//!     };
//!     tokio::spawn(async move {
//!         let Ok(mut ws) = websocket.await else { return };
//!         while let Some(Ok(message)) = ws.next().await {
//!             if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     });
//!     Ok(response)
//! }
//! ```
//!
//! Serve HTTP/1.1 connections with `with_upgrades()` (hyper's
//! `http1::Builder::serve_connection(io, service).with_upgrades()`), or
//! hyper never hands them over; serve HTTP/2 with
//! `http2::Builder::enable_connect_protocol()`, or clients never send an
//! extended CONNECT. hyper-util's `server::conn::auto::Builder` does both
//! on one port (`serve_connection_with_upgrades`, and
//! `.http2().enable_connect_protocol()`). [`Upgrader`] chooses subprotocols,
//! extensions such as permessage-deflate, and the settings:
//!
//! ```
//! use wsproto::extensions::DeflateConfig;
//! use wsproto::hyper::Upgrader;
//!
//! let upgrader = Upgrader::new()
//!     .protocols(["chat.v2", "chat.v1"])
//!     .deflate(DeflateConfig::default());
//! # let _ = upgrader;
//! ```

use std::borrow::BorrowMut;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::hyper::body::Body;
use ::hyper::client::conn::http2::SendRequest;
use ::hyper::upgrade::{OnUpgrade, Upgraded};
use bytes::Bytes;
use http::header::SEC_WEBSOCKET_PROTOCOL;
use http::{HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::config::Config;
use crate::error::{HandshakeError, LocalError};
use crate::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use crate::handshake::extended_connect::PendingConnect;
use crate::handshake::{self, Accept, extended_connect};
use crate::phase::Open;
use crate::role::{Client, Server};
use crate::stream::{StreamConfig, WebSocketStream};

/// The stream an upgrade resolves to: a server over hyper's upgraded
/// connection.
pub type UpgradedStream = WebSocketStream<TokioIo<Upgraded>, Server>;

/// Upgrades `request` with the default settings: no subprotocol, no
/// extensions. Takes the request by value or by `&mut` (it only removes
/// hyper's upgrade handle from the extensions).
///
/// Returns the response, to return from the service at once (101 over
/// HTTP/1.1, 200 to an HTTP/2 extended CONNECT), and the future of the
/// stream. The response's body type is any `Default` one
/// (`Full<Bytes>`, `Empty<Bytes>`, axum's `Body`…).
///
/// ```
/// use http_body_util::Full;
/// use hyper::body::{Bytes, Incoming};
/// use hyper::{Request, Response};
///
/// async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
///     match wsproto::hyper::upgrade(&mut request) {
///         Ok((response, websocket)) => {
///             tokio::spawn(async move {
///                 if let Ok(ws) = websocket.await {
///                     // run the connection
///                     # drop(ws);
///                 }
///             });
///             Ok(response)
///         }
///         Err(err) => Ok(err.to_response()),
///     }
/// }
/// # let _ = hyper::service::service_fn(handle);
/// ```
///
/// # Errors
///
/// See [`UpgradeError`]; [`UpgradeError::to_response`] is the answer to send.
pub fn upgrade<B, ResBody: Default>(
    request: impl BorrowMut<Request<B>>,
) -> Result<(Response<ResBody>, UpgradeFuture), UpgradeError> {
    Upgrader::new().upgrade(request)
}

/// How to upgrade: the subprotocols this server speaks, the extensions it
/// offers, the protocol and the adapter's settings. A builder; its last
/// call is [`upgrade`](Self::upgrade).
#[derive(Debug, Default)]
#[must_use]
pub struct Upgrader {
    protocols: Vec<String>,
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    stream_config: StreamConfig,
}

impl Upgrader {
    /// No subprotocol, no extension, default settings.
    ///
    /// ```
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new(); // what `wsproto::hyper::upgrade` uses
    /// # let _ = upgrader;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The subprotocols this server speaks. The one selected is the first
    /// the client offered (in its order of preference, RFC 6455 §4.1) that
    /// is in this list; none when there is no match, and the client then
    /// decides whether to go on.
    ///
    /// ```
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().protocols(["graphql-transport-ws", "graphql-ws"]);
    /// # let _ = upgrader;
    /// ```
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The protocol settings: limits, message mode, automatic replies.
    ///
    /// ```
    /// use wsproto::{Config, MessageMode};
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().config(Config::default().with_message_mode(MessageMode::Streaming));
    /// # let _ = upgrader;
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The adapter's settings: timeouts, keepalive, back-pressure.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsproto::hyper::Upgrader;
    /// use wsproto::stream::StreamConfig;
    ///
    /// let upgrader = Upgrader::new().stream_config(StreamConfig::default().with_close_timeout(Duration::from_secs(1)));
    /// # let _ = upgrader;
    /// ```
    pub fn stream_config(mut self, config: StreamConfig) -> Self {
        self.stream_config = config;
        self
    }

    /// Supports an extension: it is negotiated from the client's offers.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().extension(PerMessageDeflate::new(DeflateConfig::default()));
    /// # let _ = upgrader;
    /// ```
    pub fn extension(mut self, extension: impl Extension + 'static) -> Self {
        self.extensions.push(Box::new(extension));
        self
    }

    /// Supports permessage-deflate (RFC 7692) with `config`.
    ///
    /// ```
    /// use wsproto::extensions::DeflateConfig;
    /// use wsproto::hyper::Upgrader;
    ///
    /// let upgrader = Upgrader::new().deflate(DeflateConfig::default().with_server_no_context_takeover(true));
    /// # let _ = upgrader;
    /// ```
    pub fn deflate(self, config: DeflateConfig) -> Self {
        self.extension(PerMessageDeflate::new(config))
    }

    /// The subprotocol [`protocols`](Self::protocols) selects for a request
    /// with these headers.
    pub(crate) fn selected_protocol(&self, headers: &HeaderMap) -> Option<&str> {
        let offered = handshake::header_list(headers, &SEC_WEBSOCKET_PROTOCOL).ok()?;
        offered
            .iter()
            .find_map(|offer| self.protocols.iter().find(|ours| *ours == offer))
            .map(String::as_str)
    }

    /// Upgrades `request`, as [`upgrade`] does, with these settings.
    ///
    /// ```
    /// use futures_util::{SinkExt, StreamExt};
    /// use http_body_util::Empty;
    /// use hyper::body::{Bytes, Incoming};
    /// use hyper::{Request, Response};
    /// use wsproto::stream::Message;
    ///
    /// async fn handle(mut request: Request<Incoming>) -> Result<Response<Empty<Bytes>>, hyper::Error> {
    ///     let upgrader = wsproto::hyper::Upgrader::new().protocols(["echo"]);
    ///     let (response, websocket) = match upgrader.upgrade(&mut request) {
    ///         Ok(upgrade) => upgrade,
    ///         Err(err) => return Ok(Response::builder().status(err.status()).body(Empty::new()).unwrap()),
    ///     };
    ///     tokio::spawn(async move {
    ///         let Ok(mut ws) = websocket.await else { return };
    ///         while let Some(Ok(message)) = ws.next().await {
    ///             if message.is_text() && ws.send(message).await.is_err() {
    ///                 break;
    ///             }
    ///         }
    ///     });
    ///     Ok(response)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A hyper HTTP/1 server on one end of an in-memory pipe, with upgrades on.
    /// let (client_io, server_io) = tokio::io::duplex(1 << 16);
    /// let service = hyper::service::service_fn(handle);
    /// tokio::spawn(
    ///     hyper::server::conn::http1::Builder::new()
    ///         .serve_connection(hyper_util::rt::TokioIo::new(server_io), service)
    ///         .with_upgrades(),
    /// );
    ///
    /// let request = http::Request::get("ws://localhost/").header("sec-websocket-protocol", "echo").body(())?;
    /// let (mut ws, response) = wsproto::stream::client_async(request, client_io).await?;
    /// assert_eq!(response.headers()["sec-websocket-protocol"], "echo");
    /// ws.send(Message::text("hello")).await?;
    /// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello")));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// See [`UpgradeError`].
    pub fn upgrade<B, ResBody: Default>(
        self,
        mut request: impl BorrowMut<Request<B>>,
    ) -> Result<(Response<ResBody>, UpgradeFuture), UpgradeError> {
        let request = request.borrow_mut();
        let (response, open, handover) = self.prepare(request)?;
        let on_upgrade = request
            .extensions_mut()
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NotUpgradable)?;
        let future = UpgradeFuture::new(on_upgrade, open, handover);
        Ok((response.map(|()| ResBody::default()), future))
    }

    /// Validates `request` and negotiates: the response to send, and the
    /// connection to run once hyper hands the transport over, with the
    /// adapter's settings. Shared with the axum extractor.
    pub(crate) fn prepare<B>(
        self,
        request: &Request<B>,
    ) -> Result<(Response<()>, Open<Server>, Handover), UpgradeError> {
        let accept = match self.selected_protocol(request.headers()) {
            Some(protocol) => Accept::new().subprotocol(protocol),
            None => Accept::new(),
        };
        let kind = UpgradeKind::of(request);
        let (response, open) = match kind {
            UpgradeKind::Http11 => {
                handshake::upgrade(request, accept, self.config, self.extensions)?
            }
            UpgradeKind::ExtendedConnect => {
                let protocol = request
                    .extensions()
                    .get::<::hyper::ext::Protocol>()
                    .map(::hyper::ext::Protocol::as_str);
                extended_connect::upgrade(request, protocol, accept, self.config, self.extensions)?
            }
        };
        let handover = Handover {
            config: self.stream_config,
            kind,
        };
        Ok((response, open, handover))
    }
}

/// What the stream needs besides the connection once hyper hands the
/// transport over: the adapter's settings, and over which kind of
/// request it came.
#[derive(Debug)]
pub(crate) struct Handover {
    config: StreamConfig,
    kind: UpgradeKind,
}

/// How a request asks for a WebSocket, which decides the response. hyper
/// hands over an `Upgraded` for both, and the stream is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpgradeKind {
    /// `GET` with `Upgrade: websocket` (RFC 6455 §4), answered with 101
    /// Switching Protocols.
    Http11,
    /// `CONNECT` with `:protocol` websocket on an HTTP/2 stream (RFC 8441,
    /// seen as `hyper::ext::Protocol`), answered with 200, without key or
    /// accept.
    ExtendedConnect,
}

impl UpgradeKind {
    /// The kind `request` asks for: any CONNECT is judged as an extended
    /// CONNECT (one without `:protocol` is refused as such). The core's
    /// validation refuses what is not a valid request of that kind.
    pub(crate) fn of<B>(request: &Request<B>) -> Self {
        if request.method() == http::Method::CONNECT {
            Self::ExtendedConnect
        } else {
            Self::Http11
        }
    }
}

/// Resolves to the [`UpgradedStream`] once hyper has sent the 101 (or 200) and hands
/// the connection over. Spawn a task that awaits it: the service must
/// return the response first.
#[must_use = "the connection is only handed over if this future is awaited"]
pub struct UpgradeFuture {
    on_upgrade: OnUpgrade,
    open: Option<(Open<Server>, Handover)>,
}

impl std::fmt::Debug for UpgradeFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeFuture")
            .field("done", &self.open.is_none())
            .finish_non_exhaustive()
    }
}

impl UpgradeFuture {
    pub(crate) fn new(on_upgrade: OnUpgrade, open: Open<Server>, handover: Handover) -> Self {
        Self {
            on_upgrade,
            open: Some((open, handover)),
        }
    }
}

impl Future for UpgradeFuture {
    /// hyper's error when the connection could not be handed over: it
    /// closed first, or it was not served `with_upgrades()`.
    type Output = Result<UpgradedStream, ::hyper::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let upgraded = ready!(Pin::new(&mut this.on_upgrade).poll(cx))?;
        let (open, handover) = this
            .open
            .take()
            .expect("UpgradeFuture polled after it completed");
        let mut config = handover.config;
        if handover.kind == UpgradeKind::ExtendedConnect {
            // One stream of an HTTP/2 connection: end it without a reset.
            config.read_to_end_after_close = true;
        }
        Poll::Ready(Ok(WebSocketStream::from_open(
            TokioIo::new(upgraded),
            open,
            config,
        )))
    }
}

/// Why a request could not be upgraded. [`to_response`](Self::to_response)
/// is the answer to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// Not a valid WebSocket upgrade request (RFC 6455 §4.2.1); the error
    /// carries the status to answer: 400, or 426 for a version other
    /// than 13.
    #[error(transparent)]
    Request(HandshakeError),
    /// The request was valid but this side's choices were not (an
    /// extension's response that is no header value): answered with 500.
    #[error(transparent)]
    Accept(LocalError),
    /// A valid request on a connection hyper cannot hand over: the request
    /// did not come from a hyper server connection (over HTTP/1.1 served
    /// `with_upgrades()`, or HTTP/2 with `enable_connect_protocol()`), or
    /// it was upgraded already. Answered with 426 Upgrade Required, as axum
    /// does.
    #[error("the connection cannot be upgraded (not served by hyper?)")]
    NotUpgradable,
}

impl From<handshake::UpgradeError> for UpgradeError {
    fn from(err: handshake::UpgradeError) -> Self {
        match err {
            handshake::UpgradeError::Request(err) => Self::Request(err),
            handshake::UpgradeError::Accept(err) => Self::Accept(err),
        }
    }
}

impl UpgradeError {
    /// The status to answer with.
    ///
    /// ```
    /// let request = http::Request::get("/").header("host", "example.com").body(())?;
    /// let err = wsproto::hyper::upgrade::<_, http_body_util::Empty<bytes::Bytes>>(request).unwrap_err();
    /// assert_eq!(err.status(), 400); // not an upgrade request
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Request(err) => err.status,
            Self::Accept(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
        }
    }

    /// The response that answers this error: its status, a plain-text
    /// reason, and for 426 the `Upgrade: websocket` and
    /// `Sec-WebSocket-Version: 13` headers (RFC 6455 §4.4, RFC 9110
    /// §15.5.22). Built by the core's
    /// [`HandshakeError::to_http_response`].
    ///
    /// ```
    /// use http_body_util::Full;
    /// use hyper::body::Bytes;
    ///
    /// let mut request = http::Request::get("/")
    ///     .header("host", "example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "upgrade")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("sec-websocket-version", "8")
    ///     .body(())?;
    /// let err = wsproto::hyper::upgrade::<_, Full<Bytes>>(&mut request).unwrap_err();
    /// let response = err.to_response::<Full<Bytes>>();
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_response<ResBody: From<Bytes>>(&self) -> Response<ResBody> {
        let response = match self {
            Self::Request(err) => err.to_http_response(),
            other => HandshakeError::new(other.status(), other.to_string()).to_http_response(),
        };
        response.map(ResBody::from)
    }
}

/// The stream [`connect_h2`] resolves to: a client over one HTTP/2 stream
/// of a hyper client connection.
pub type H2ClientStream = WebSocketStream<TokioIo<Upgraded>, Client>;

/// Opens a WebSocket over an existing hyper HTTP/2 client connection (RFC
/// 8441): sends an extended CONNECT for `url` (`ws://` or `wss://`, or
/// `http://`/`https://`) with no subprotocol and no extension, checks the
/// 200, and runs the stream on that one HTTP/2 stream. Other requests go on
/// sharing the connection.
///
/// The server must have announced `SETTINGS_ENABLE_CONNECT_PROTOCOL`
/// (hyper: `http2::Builder::enable_connect_protocol()`); one that did not
/// resets the stream, which ends here as [`ConnectH2Error::Http`].
/// hyper's `http2::Connection::is_extended_connect_protocol_enabled()`
/// tells, once the server's SETTINGS arrived.
///
/// ```no_run
/// use futures_util::{SinkExt, StreamExt};
/// use http_body_util::Empty;
/// use hyper::body::Bytes;
/// use hyper_util::rt::{TokioExecutor, TokioIo};
/// use wsproto::stream::Message;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tcp = tokio::net::TcpStream::connect("127.0.0.1:9003").await?;
/// let (mut sender, connection) =
///     hyper::client::conn::http2::handshake::<_, _, Empty<Bytes>>(TokioExecutor::new(), TokioIo::new(tcp))
///         .await?;
/// tokio::spawn(connection);
/// let (mut ws, response) = wsproto::hyper::connect_h2(&mut sender, "ws://127.0.0.1:9003/ws").await?;
/// assert_eq!(response.status(), 200);
/// ws.send(Message::text("hello over HTTP/2")).await?;
/// println!("{:?}", ws.next().await);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// See [`ConnectH2Error`].
pub async fn connect_h2<B>(
    sender: &mut SendRequest<B>,
    url: &str,
) -> Result<(H2ClientStream, Response<()>), ConnectH2Error>
where
    B: Body + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request = Request::get(url)
        .body(())
        .map_err(|_| HandshakeError::local("invalid URL"))?;
    connect_h2_with(
        sender,
        request,
        Config::default(),
        Vec::new(),
        StreamConfig::default(),
    )
    .await
}

/// [`connect_h2`] with a request of your own (subprotocols in
/// `Sec-WebSocket-Protocol`, an `Origin`, cookies…), extensions such as
/// permessage-deflate, and the protocol's and the adapter's settings. The
/// request is turned into the extended CONNECT by
/// [`PendingConnect::new`](crate::handshake::extended_connect::PendingConnect::new),
/// and `:protocol` is set as hyper carries it (`hyper::ext::Protocol`).
///
/// ```no_run
/// use http_body_util::Empty;
/// use hyper::body::Bytes;
/// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
/// use wsproto::stream::StreamConfig;
///
/// # async fn run(mut sender: hyper::client::conn::http2::SendRequest<Empty<Bytes>>) -> Result<(), Box<dyn std::error::Error>> {
/// let request = http::Request::get("wss://example.com/chat")
///     .header("sec-websocket-protocol", "chat")
///     .body(())?;
/// let deflate = PerMessageDeflate::new(DeflateConfig::default());
/// let (ws, _response) = wsproto::hyper::connect_h2_with(
///     &mut sender,
///     request,
///     wsproto::Config::default(),
///     vec![Box::new(deflate)],
///     StreamConfig::default(),
/// )
/// .await?;
/// println!("subprotocol {:?}, extensions {:?}", ws.subprotocol(), ws.extensions());
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// See [`ConnectH2Error`].
pub async fn connect_h2_with<B>(
    sender: &mut SendRequest<B>,
    request: Request<()>,
    config: Config,
    extensions: Vec<Box<dyn Extension>>,
    stream_config: StreamConfig,
) -> Result<(H2ClientStream, Response<()>), ConnectH2Error>
where
    B: Body + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (pending, request) = PendingConnect::new(request, config, extensions)?;
    let mut request = request.map(|()| B::default());
    request
        .extensions_mut()
        .insert(::hyper::ext::Protocol::from_static(
            extended_connect::PROTOCOL,
        ));
    sender.ready().await?;
    let mut response = sender.send_request(request).await?;
    let open = pending.finish(&response)?;
    let upgraded = ::hyper::upgrade::on(&mut response).await?;
    let (head, _body) = response.into_parts();
    let ws = WebSocketStream::from_open(TokioIo::new(upgraded), open, stream_config);
    Ok((ws, Response::from_parts(head, ())))
}

/// Why [`connect_h2`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectH2Error {
    /// The request could not be built (kind
    /// [`Local`](crate::HandshakeErrorKind::Local): a bad URL), or the
    /// server's answer broke the handshake (kind
    /// [`BadResponse`](crate::HandshakeErrorKind::BadResponse), carrying its
    /// status: not 2xx, or a subprotocol or extension that was not
    /// offered).
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// HTTP/2 failed: the connection is closed, the server reset the stream
    /// (a server that did not enable extended CONNECT does), or hyper could
    /// not hand the stream over.
    #[error("HTTP/2: {0}")]
    Http(#[from] ::hyper::Error),
}
