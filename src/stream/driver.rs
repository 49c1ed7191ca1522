//! The one engine behind [`WebSocketStream`](super::WebSocketStream) and
//! its split halves: the sans-IO connection, the transport, the timers, and
//! the loop that moves bytes between them. Every piece of state lives here,
//! none in a future, so dropping any future that polls it loses nothing.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::{Error, Message, StreamConfig};
use crate::error::LocalError;
use crate::event::{Event, MessageKind};
use crate::frame::{CloseCode, CloseFrame};
use crate::lifecycle::State;
use crate::phase::{Open, WebSocket};
use crate::role::Role;

/// Read into the stack first while nothing is buffered: an idle connection
/// then holds no receive buffer at all, and a burst of small frames costs
/// one copy of at most this much.
const STACK_READ: usize = 8 * 1024;

/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// The keepalive's schedule.
#[derive(Debug, Default)]
struct Keepalive {
    /// When the next ping goes out.
    next_ping: Option<Instant>,
    /// When the pong for the ping in flight is due.
    pong_due: Option<Instant>,
    /// Payload of the next ping: a counter, so pongs can be told apart.
    sent: u64,
}

/// Where the transport is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// Reading and writing.
    Open,
    /// Shutting down our writing side.
    ShuttingDown,
    /// Done: the stream has ended.
    Done,
}

/// The connection, its transport and its timers.
pub(crate) struct Driver<IO, R: Role> {
    io: IO,
    ws: WebSocket<R>,
    config: StreamConfig,
    transport: Transport,
    /// Whether a read returned the end of the transport.
    read_eof: bool,
    /// A message decoded on the sink's side, kept for the stream.
    stash: Option<Message>,
    /// How the connection failed, for the stream to report once.
    failure: Option<Error>,
    /// Whether the stream has reported its end (`None` or an error).
    ended: bool,
    /// Whether we sent the close frame through the sink (or `close`).
    closed_by_us: bool,
    /// Whether the stream was polled since the sink last read: if it was,
    /// the stream is reading and the sink need not.
    stream_polled: bool,
    /// One timer for every deadline, made on first use and reset after.
    timer: Option<Pin<Box<Sleep>>>,
    /// The deadline the timer is set to.
    timer_at: Option<Instant>,
    /// When the close handshake (or, for a client, the server's end of the
    /// transport) must be done.
    close_due: Option<Instant>,
    keepalive: Keepalive,
}

impl<IO, R: Role> std::fmt::Debug for Driver<IO, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("ws", &self.ws)
            .field("transport", &self.transport)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<IO, R: Role> Driver<IO, R> {
    pub(crate) fn new(io: IO, open: Open<R>, config: StreamConfig) -> Self {
        Self {
            io,
            ws: open.into(),
            config,
            transport: Transport::Open,
            read_eof: false,
            stash: None,
            failure: None,
            ended: false,
            closed_by_us: false,
            stream_polled: false,
            timer: None,
            timer_at: None,
            close_due: None,
            keepalive: Keepalive::default(),
        }
    }

    pub(crate) fn get_ref(&self) -> &IO {
        &self.io
    }

    pub(crate) fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    pub(crate) fn into_inner(self) -> IO {
        self.io
    }

    pub(crate) fn websocket(&self) -> &WebSocket<R> {
        &self.ws
    }

    pub(crate) fn config(&self) -> &StreamConfig {
        &self.config
    }

    pub(crate) fn state(&self) -> &State {
        self.ws.state()
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.ended
    }

    /// The error a send gets once nothing more may be sent.
    fn closed_error(&self) -> Error {
        if self.ended || self.closed_by_us || self.transport != Transport::Open {
            Error::AlreadyClosed
        } else {
            Error::ConnectionClosed
        }
    }

    /// The error a local refusal turns into.
    fn local_error(&self, err: LocalError) -> Error {
        match err {
            LocalError::Closed => self.closed_error(),
            err => Error::Local(err),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> Driver<IO, R> {
    // ---- the stream -------------------------------------------------------

    /// The next message: decode what is buffered, flush, then read.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        self.stream_polled = true;
        if let Some(message) = self.stash.take() {
            return Poll::Ready(Some(Ok(message)));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        loop {
            if self.failure.is_none() && self.transport == Transport::Open {
                match self.ws.poll_event() {
                    Ok(Some(event)) => {
                        if let Some(message) = self.on_event(event) {
                            return Poll::Ready(Some(Ok(message)));
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(err) => self.failure = Some(Error::Protocol(err)),
                }
            }
            if let Poll::Ready(end) = self.poll_end(cx) {
                self.ended = true;
                return Poll::Ready(end.map(Err));
            }
            if self.transport != Transport::Open || self.failure.is_some() {
                return Poll::Pending;
            }
            // Every reply is queued: one vectored write for all of them.
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => {
                    self.failure = Some(Error::Io(err));
                    continue;
                }
                // Back-pressure: read no more while the queue is over the
                // mark; the write's readiness wakes us.
                Poll::Pending if self.ws.outgoing_len() > self.config.write_high_water => {
                    return Poll::Pending;
                }
                Poll::Pending => {}
            }
            match self.poll_fill(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => self.failure = Some(err),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Books an event; the message to report, if any.
    fn on_event(&mut self, event: Event) -> Option<Message> {
        match &event {
            Event::Pong(_) => self.keepalive.pong_due = None,
            Event::Close(_) => self.note_closing(),
            _ => {}
        }
        Message::from_event(event)
    }

    /// Arms the close timeout once the close handshake has started on our
    /// side (our close queued, or the reply to the peer's).
    fn note_closing(&mut self) {
        if self.close_due.is_none()
            && matches!(self.ws.state(), State::LocalClosing | State::Closed(_))
        {
            self.close_due = Some(Instant::now() + self.config.close_timeout);
        }
    }

    /// Whether the stream is over, and how: checks the timers, and once the
    /// connection is closed or failed, writes out what is queued and shuts
    /// the transport down. `Ready(None)` is a clean end.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<Error>> {
        if let Poll::Ready(err) = self.poll_timers(cx) {
            self.failure = Some(err);
        }
        if self.failure.is_none() && !self.ws.is_closed() {
            return Poll::Pending;
        }
        self.note_closing();
        if self.transport == Transport::Open {
            // The close frame (ours, the reply, or the error's) goes out.
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => {
                    self.failure.get_or_insert(Error::Io(err));
                }
                Poll::Pending => return Poll::Pending,
            }
            // RFC 6455 §7.1.1: the server closes the TCP connection first;
            // the client waits for it (within the close timeout).
            if R::IS_CLIENT && self.failure.is_none() {
                match self.poll_fill(cx) {
                    Poll::Ready(Ok(())) if !self.at_eof() => return self.poll_end(cx),
                    Poll::Ready(_) => {}
                    Poll::Pending => return Poll::Pending,
                }
            }
            self.transport = Transport::ShuttingDown;
        }
        if self.transport == Transport::ShuttingDown {
            // An error here changes nothing: the connection is over.
            if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() {
                return Poll::Pending;
            }
            self.transport = Transport::Done;
            self.timer = None;
        }
        Poll::Ready(self.failure.take())
    }

    /// Whether the transport has ended (a read returned nothing).
    fn at_eof(&self) -> bool {
        self.read_eof
    }

    // ---- the sink -----------------------------------------------------------

    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if !self.ws.state().may_send() || self.transport != Transport::Open {
            return Poll::Ready(Err(self.closed_error()));
        }
        if self.ws.outgoing_len() > self.config.write_high_water {
            if let Err(err) = ready!(self.poll_write_out(cx)).map_err(Error::Io) {
                return Poll::Ready(Err(err));
            }
        }
        Poll::Ready(Ok(()))
    }

    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        if self.transport != Transport::Open {
            return Err(self.closed_error());
        }
        if let Message::Close(frame) = message {
            if !self.ws.state().may_send_close() {
                return Err(self.closed_error());
            }
            let frame = frame.unwrap_or_else(|| CloseFrame::new(CloseCode::NO_STATUS_RCVD, ""));
            self.ws.close(frame.code, &frame.reason);
            self.closed_by_us = true;
            self.note_closing();
            return Ok(());
        }
        let Some(open) = self.ws.as_open() else {
            return Err(self.closed_error());
        };
        let sent = match message {
            Message::Text(text) => open.send_shared(MessageKind::Text, text.into_bytes()),
            Message::Binary(data) => open.send_shared(MessageKind::Binary, data),
            Message::Ping(data) => open.send_ping(&data),
            Message::Pong(data) => open.send_pong(&data),
            Message::Fragment { kind, data, fin } => open.send_fragment_shared(kind, data, fin),
            Message::Close(_) => Ok(()),
        };
        sent.map_err(|err| self.local_error(err))
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.transport != Transport::Open {
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll_write_out(cx)).map_err(Error::Io)?;
        Poll::Ready(Ok(()))
    }

    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.ws.state().may_send_close() {
            self.ws.close(CloseCode::NORMAL, "");
            self.closed_by_us = true;
            self.note_closing();
        }
        self.poll_flush(cx)
    }

    // ---- the transport ------------------------------------------------------

    /// Writes every queued byte, in vectored writes, then flushes the
    /// transport.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.ws.outgoing_len() > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let count = self.ws.outgoing_slices(&mut slices);
            let written = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.ws.advance_outgoing(written);
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Reads once from the transport into the connection; `Ready(Ok)` when
    /// bytes (or the end) arrived.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let read_size = self.config.read_size;
        let buf = self.ws.receive_buffer().map_err(Error::Local)?;
        let n = if buf.is_empty() {
            let mut stack = [const { MaybeUninit::<u8>::uninit() }; STACK_READ];
            let mut read = ReadBuf::uninit(&mut stack);
            match Pin::new(&mut self.io).poll_read(cx, &mut read) {
                Poll::Pending => {
                    // Idle: hold no receive buffer while waiting.
                    if buf.capacity() > 0 {
                        *buf = BytesMut::new();
                    }
                    return Poll::Pending;
                }
                Poll::Ready(result) => result?,
            }
            buf.extend_from_slice(read.filled());
            read.filled().len()
        } else {
            buf.reserve(read_size);
            ready!(std::pin::pin!(self.io.read_buf(buf)).poll(cx))?
        };
        if n == 0 {
            self.read_eof = true;
            self.ws.receive_eof();
        }
        Poll::Ready(Ok(()))
    }

    // ---- timers -------------------------------------------------------------

    /// Polls the deadlines; the error that ends the connection when one
    /// passed.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        let _ = (cx, Duration::ZERO, Bytes::new());
        Poll::Pending
    }
}
