//! [`WebSocketStream::split`](super::WebSocketStream::split): a reader and a
//! writer over one shared connection, for two tasks.
//!
//! Both halves lock the same [`Driver`] for the length of one poll (never
//! across an `.await`), so they see one connection: pongs and close replies
//! queued by either go out with whichever half writes next. The transport
//! and the timers are polled with a waker that wakes both halves, because a
//! transport keeps only one waker per direction.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};

use super::driver::Driver;
use super::{Error, Message, WebSocketStream};
use crate::role::Role;

/// The wakers of the two halves; waking it wakes whichever are waiting.
#[derive(Debug, Default)]
struct Wakers {
    reader: Mutex<Option<Waker>>,
    writer: Mutex<Option<Waker>>,
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        for slot in [&self.reader, &self.writer] {
            if let Some(waker) = slot.lock().unwrap_or_else(PoisonError::into_inner).take() {
                waker.wake();
            }
        }
    }
}

/// What the two halves share.
struct Shared<IO, R: Role> {
    driver: Mutex<Driver<IO, R>>,
    wakers: Arc<Wakers>,
    /// A waker over `wakers`, made once.
    waker: Waker,
}

impl<IO, R: Role> Shared<IO, R> {
    fn lock(&self) -> MutexGuard<'_, Driver<IO, R>> {
        // A panic in another half's poll leaves the driver as consistent as
        // any interrupted poll does; carry on rather than panic again.
        self.driver.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one poll of the driver for a half: registers the half's waker,
    /// polls with the shared one, and forgets the half's waker once it has
    /// its answer, so the other half's traffic does not wake it for nothing.
    fn poll<T>(
        &self,
        slot: &Mutex<Option<Waker>>,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Driver<IO, R>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        {
            let mut registered = slot.lock().unwrap_or_else(PoisonError::into_inner);
            match &*registered {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => *registered = Some(cx.waker().clone()),
            }
        }
        let mut shared_cx = Context::from_waker(&self.waker);
        let result = f(&mut self.lock(), &mut shared_cx);
        if result.is_ready() {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        result
    }
}

/// The reading half of a split [`WebSocketStream`]: a
/// `Stream<Item = Result<Message, Error>>`.
///
/// It answers pings and completes the close handshake as the whole stream
/// does; see [`WebSocketStream::split`] for what each half drives.
pub struct ReadHalf<IO, R: Role> {
    shared: Arc<Shared<IO, R>>,
}

/// The writing half of a split [`WebSocketStream`]: a `Sink<Message>`.
///
/// Its flush also reads, so pings are answered while only the writer runs;
/// see [`WebSocketStream::split`].
pub struct WriteHalf<IO, R: Role> {
    shared: Arc<Shared<IO, R>>,
}

impl<IO, R: Role> std::fmt::Debug for ReadHalf<IO, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<IO, R: Role> std::fmt::Debug for WriteHalf<IO, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

pub(super) fn split<IO, R: Role>(driver: Driver<IO, R>) -> (ReadHalf<IO, R>, WriteHalf<IO, R>) {
    let wakers = Arc::new(Wakers::default());
    let shared = Arc::new(Shared {
        driver: Mutex::new(driver),
        waker: Waker::from(Arc::clone(&wakers)),
        wakers,
    });
    (
        ReadHalf {
            shared: Arc::clone(&shared),
        },
        WriteHalf { shared },
    )
}

/// [`ReadHalf::reunite`] was given a writer from another stream; both halves
/// are handed back.
pub struct ReuniteError<IO, R: Role>(pub ReadHalf<IO, R>, pub WriteHalf<IO, R>);

impl<IO, R: Role> std::fmt::Debug for ReuniteError<IO, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReuniteError")
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

impl<IO, R: Role> std::fmt::Display for ReuniteError<IO, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tried to reunite halves of different WebSocketStreams")
    }
}

impl<IO, R: Role> std::error::Error for ReuniteError<IO, R> {}

impl<IO, R: Role> ReadHalf<IO, R> {
    /// Puts the stream back together.
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
    /// let (reader, writer) = server.split();
    /// let server = reader.reunite(writer)?;
    /// # let _ = server;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReuniteError`], with both halves, when `writer` came from another
    /// stream.
    pub fn reunite(
        self,
        writer: WriteHalf<IO, R>,
    ) -> Result<WebSocketStream<IO, R>, ReuniteError<IO, R>> {
        if !self.is_pair_of(&writer) {
            return Err(ReuniteError(self, writer));
        }
        drop(writer);
        match Arc::try_unwrap(self.shared) {
            Ok(shared) => Ok(WebSocketStream::from_driver(
                shared
                    .driver
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner),
            )),
            // Only the two halves hold the shared state, and the writer is
            // gone.
            Err(_) => unreachable!("a split stream has exactly two halves"),
        }
    }

    /// Whether `writer` is the other half of this reader's stream.
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
    /// let (reader, writer) = server.split();
    /// assert!(reader.is_pair_of(&writer));
    /// # let _ = &mut client;
    /// # Ok(()) }
    /// ```
    pub fn is_pair_of(&self, writer: &WriteHalf<IO, R>) -> bool {
        Arc::ptr_eq(&self.shared, &writer.shared)
    }
}

impl<IO, R: Role> WriteHalf<IO, R> {
    /// Whether `reader` is the other half of this writer's stream.
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
    /// let (reader, writer) = server.split();
    /// assert!(writer.is_pair_of(&reader));
    /// # Ok(()) }
    /// ```
    pub fn is_pair_of(&self, reader: &ReadHalf<IO, R>) -> bool {
        reader.is_pair_of(self)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> Stream for ReadHalf<IO, R> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let shared = &*self.shared;
        shared.poll(&shared.wakers.reader, cx, Driver::poll_next)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> Sink<Message> for WriteHalf<IO, R> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let shared = &*self.shared;
        shared.poll(&shared.wakers.writer, cx, Driver::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.shared.lock().start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let shared = &*self.shared;
        shared.poll(&shared.wakers.writer, cx, Driver::poll_flush)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let shared = &*self.shared;
        shared.poll(&shared.wakers.writer, cx, Driver::poll_close)
    }
}
