//! The one engine behind [`WebSocketStream`](super::WebSocketStream) and
//! its split halves: the sans-IO connection, the transport, the timers, and
//! the loop that moves bytes between them. Every piece of state lives here,
//! none in a future, so dropping any future that polls it loses nothing.
//!
//! The stream side (`poll_next`) decodes every buffered frame, writes every
//! queued byte in vectored writes, then reads. The sink side queues frames,
//! and its flush reads too, so pings are answered and the peer's close is
//! seen while the application only writes. When the connection is over
//! (closed, failed or timed out), whichever side runs next takes it to the
//! end in [`Driver::poll_end`]: the last frames out, the transport shut down.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::{Error, Message, StreamConfig};
use crate::error::{LocalError, ProtocolError};
use crate::event::{Event, MessageKind};
use crate::frame::{CloseCode, CloseFrame};
use crate::lifecycle::State;
use crate::phase::{Open, WebSocket};
use crate::role::Role;

/// Read into the stack while nothing is buffered: an idle connection then
/// holds no receive buffer at all, and a burst of small frames costs one
/// copy of at most this much. Reads into the connection's buffer directly
/// once a frame is partly buffered.
const STACK_READ: usize = 8 * 1024;

/// How many pongs read by the sink may wait for the stream before the sink
/// stops reading; also how many pings are kept (older ones are dropped:
/// they were answered already).
const STASHED_CONTROL: usize = 8;

/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// The keepalive's schedule.
#[derive(Debug, Default)]
struct Keepalive {
    /// When the next ping goes out (set on the first poll).
    next_ping: Option<Instant>,
    /// When the pong for the ping in flight is due.
    pong_due: Option<Instant>,
    /// How many pings were sent: the next ping's payload.
    sent: u64,
}

/// Where the transport is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// Reading and writing.
    Open,
    /// The connection is over; shutting down our writing side.
    ShuttingDown,
    /// Shut down; reading until the peer ends its side too (see
    /// `StreamConfig::read_to_end_after_close`).
    Draining,
    /// Shut down.
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
    /// Messages decoded on the sink's side, kept for the stream, in order
    /// (see `read_for_sink`).
    stash: VecDeque<Message>,
    /// The connection failed (I/O, protocol, a timeout): it is ending.
    failed: bool,
    /// Why, for whichever side reports it first.
    failure: Option<Error>,
    /// Stop waiting on the transport while ending: the close timeout passed,
    /// or the transport failed.
    gave_up: bool,
    /// Whether the stream has reported its end (`None` or an error).
    ended: bool,
    /// Whether we started the close handshake through the sink (or `close`).
    closed_by_us: bool,
    /// Bytes of pongs queued by reading since the queue was last empty: the
    /// stream stops reading while they are over the back-pressure mark and
    /// the transport takes nothing, so a peer that pings but never reads
    /// costs bounded memory. What the sink queued does not count, so a
    /// full-duplex transfer never stops the reader.
    replies_queued: usize,
    /// Whether the stream was polled since the sink last read: if it was,
    /// the stream is reading and the sink need not.
    stream_polled: bool,
    /// One timer for every deadline, made on first use and reset after.
    timer: Option<Pin<Box<Sleep>>>,
    /// The deadline the timer is set to, if one is in force.
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
            stash: VecDeque::new(),
            failed: false,
            failure: None,
            gave_up: false,
            ended: false,
            closed_by_us: false,
            replies_queued: 0,
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

    /// Whether the connection is over and only its end remains to be done.
    fn is_ending(&self) -> bool {
        self.failed || self.ws.is_closed() || self.transport != Transport::Open
    }

    /// The error a send gets once nothing more may be sent.
    fn closed_error(&self) -> Error {
        if self.closed_by_us || self.failed {
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

    /// Records how the connection failed; the first cause wins.
    fn fail(&mut self, err: Error) {
        if !self.failed {
            self.failed = true;
            self.failure = Some(err);
        }
    }

    /// The transport failed: record it, stop waiting on it, and hand the
    /// caller an error of the same kind (the original stays for the stream).
    fn fail_io(&mut self, err: io::Error) -> Error {
        self.gave_up = true;
        let copy = io::Error::new(err.kind(), err.to_string());
        if self.failed {
            Error::Io(err)
        } else {
            self.fail(Error::Io(err));
            Error::Io(copy)
        }
    }

    /// Arms the close timeout once the connection is ending on our side: our
    /// close queued (by us, or as the reply to the peer's), or a failure.
    fn note_closing(&mut self) {
        if self.close_due.is_none()
            && (self.failed
                || matches!(
                    self.ws.state(),
                    State::LocalClosing | State::Closed(_) | State::Failed(_)
                ))
        {
            self.close_due = Some(Instant::now() + self.config.close_timeout);
            self.rearm();
        }
    }

    /// Points the timer at the earliest deadline in force.
    fn rearm(&mut self) {
        let at = [
            self.close_due,
            self.keepalive.next_ping,
            self.keepalive.pong_due,
        ]
        .into_iter()
        .flatten()
        .min();
        if at == self.timer_at {
            return;
        }
        self.timer_at = at;
        if let Some(at) = at {
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(at),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
            }
        }
    }

    /// Books an event; the message that reports it.
    fn on_event(&mut self, event: Event) -> Message {
        match &event {
            // The pong queued for it, header included.
            Event::Ping(data) if self.ws.config().auto_pong => {
                self.replies_queued += data.len() + crate::frame::MAX_HEADER_LEN;
            }
            Event::Pong(_) if self.keepalive.pong_due.is_some() => {
                self.keepalive.pong_due = None;
                self.rearm();
            }
            Event::Close(_) => self.note_closing(),
            _ => {}
        }
        Message::from_event(event)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Role> Driver<IO, R> {
    // ---- the stream ---------------------------------------------------------

    /// The next message: decode what is buffered, write what is queued, then
    /// read. The hot path, a data message already buffered, is kept small
    /// enough to inline into the caller's loop.
    #[inline]
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        self.stream_polled = true;
        if self.stash.is_empty() && !self.failed && matches!(self.ws, WebSocket::Open(_)) {
            let polled = self.ws.poll_event();
            match polled {
                Ok(Some(Event::Text(text))) => return Poll::Ready(Some(Ok(Message::Text(text)))),
                Ok(Some(Event::Binary(data))) => {
                    return Poll::Ready(Some(Ok(Message::Binary(data))));
                }
                polled => return self.poll_next_slow(cx, Some(polled)),
            }
        }
        self.poll_next_slow(cx, None)
    }

    /// Everything but the hot path of [`poll_next`](Self::poll_next),
    /// starting with what the decoder gave it, if it ran.
    #[inline(never)]
    fn poll_next_slow(
        &mut self,
        cx: &mut Context<'_>,
        mut polled: Option<Result<Option<Event>, ProtocolError>>,
    ) -> Poll<Option<Result<Message, Error>>> {
        if let Some(message) = self.stash.pop_front() {
            return Poll::Ready(Some(Ok(message)));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        loop {
            let polled = match polled.take() {
                Some(polled) => Some(polled),
                None if !self.is_ending() => Some(self.ws.poll_event()),
                None => None,
            };
            match polled {
                Some(Ok(Some(event))) => return Poll::Ready(Some(Ok(self.on_event(event)))),
                Some(Err(err)) => self.fail(Error::Protocol(err)),
                Some(Ok(None)) | None => {}
            }
            self.poll_timers(cx);
            if self.is_ending() {
                let end = ready!(self.poll_end(cx));
                self.ended = true;
                return Poll::Ready(end.map(Err));
            }
            // Every reply is queued: one vectored write for all of them.
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => {
                    self.fail_io(err);
                    continue;
                }
                // Back-pressure: read no more while our own replies are
                // over the mark; the transport wakes us once it takes more.
                Poll::Pending if self.replies_over_high_water() => return Poll::Pending,
                Poll::Pending => {}
            }
            match self.poll_fill(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => self.fail(err),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Takes the connection to its end: the last frames out (ours, the close
    /// reply or the error's close frame), for a client the server's end of
    /// the transport, then the shutdown. Gives the error to report, or
    /// `None` for a clean end. The close timeout bounds every wait.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<Error>> {
        self.note_closing();
        if self.transport == Transport::Open {
            if !self.gave_up {
                match self.poll_write_out(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(err)) => {
                        self.fail_io(err);
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            // RFC 6455 §7.1.1: "the underlying TCP connection, in most normal
            // cases, SHOULD be closed first by the server", so a client waits
            // for the server to end it, reading and discarding.
            while R::IS_CLIENT && !self.gave_up && !self.failed && !self.read_eof {
                match self.poll_fill(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(_)) => break,
                    Poll::Pending => return Poll::Pending,
                }
            }
            self.transport = Transport::ShuttingDown;
        }
        if self.transport == Transport::ShuttingDown {
            // Its outcome changes nothing: the connection is over. After a
            // timeout it is tried once, not waited for.
            if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() && !self.gave_up {
                return Poll::Pending;
            }
            self.transport = Transport::Draining;
        }
        if self.transport == Transport::Draining {
            // Received bytes are discarded once the connection is closed.
            while self.config.read_to_end_after_close && !self.gave_up && !self.read_eof {
                match self.poll_fill(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(_)) => break,
                    Poll::Pending => return Poll::Pending,
                }
            }
            self.transport = Transport::Done;
            self.timer = None;
            self.timer_at = None;
            if let Ok(buf) = self.ws.receive_buffer() {
                *buf = BytesMut::new();
            }
        }
        Poll::Ready(self.failure.take())
    }

    /// Whether more is queued than the back-pressure mark allows.
    fn over_high_water(&self) -> bool {
        self.ws.outgoing_len() > self.config.write_high_water
    }

    /// Whether the pongs queued by reading are over the mark.
    fn replies_over_high_water(&self) -> bool {
        self.replies_queued > self.config.write_high_water
    }

    // ---- the sink -----------------------------------------------------------

    /// Once the connection is over: finish it, then report why nothing more
    /// may be sent.
    fn poll_refuse(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.transport == Transport::Done {
            return Poll::Ready(Err(self
                .failure
                .take()
                .unwrap_or_else(|| self.closed_error())));
        }
        let end = ready!(self.poll_end(cx));
        Poll::Ready(Err(end.unwrap_or_else(|| self.closed_error())))
    }

    #[inline]
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if !self.failed && matches!(self.ws, WebSocket::Open(_)) && !self.over_high_water() {
            return Poll::Ready(Ok(()));
        }
        self.poll_ready_slow(cx)
    }

    #[inline(never)]
    fn poll_ready_slow(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll_timers(cx);
        if self.is_ending() {
            return self.poll_refuse(cx);
        }
        if !self.ws.state().may_send_close() {
            return Poll::Ready(Err(self.closed_error()));
        }
        if self.over_high_water() {
            if let Poll::Ready(Err(err)) = self.poll_write_out(cx) {
                return Poll::Ready(Err(self.fail_io(err)));
            }
            if self.over_high_water() {
                return Poll::Pending;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Queues a message. The hot path, a text or binary message on an open
    /// connection, inlines into the caller.
    #[inline]
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        if let (false, WebSocket::Open(open), Message::Text(_) | Message::Binary(_)) =
            (self.failed, &mut self.ws, &message)
        {
            return send_on(open, message).map_err(|err| self.local_error(err));
        }
        self.start_send_slow(message)
    }

    #[inline(never)]
    fn start_send_slow(&mut self, message: Message) -> Result<(), Error> {
        if self.failed || self.transport != Transport::Open {
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
        send_on(open, message).map_err(|err| self.local_error(err))
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.transport == Transport::Done {
            return Poll::Ready(Ok(()));
        }
        if !std::mem::take(&mut self.stream_polled) {
            self.read_for_sink(cx);
        }
        self.poll_timers(cx);
        if self.failed {
            return self.poll_refuse(cx);
        }
        match ready!(self.poll_write_out(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(err) => Poll::Ready(Err(self.fail_io(err))),
        }
    }

    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if !self.failed && self.transport == Transport::Open && self.ws.state().may_send_close() {
            self.ws.close(CloseCode::NORMAL, "");
            self.closed_by_us = true;
            self.note_closing();
        }
        if self.transport == Transport::Done {
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll_flush(cx))?;
        if self.ws.is_closed() {
            // The handshake is complete: the end is ours to do.
            if let Some(err) = ready!(self.poll_end(cx)) {
                return Poll::Ready(Err(err));
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads on the sink's behalf, so pongs and close replies get queued
    /// (the flush that follows writes them). What it decodes waits in the
    /// stash for the stream, in order. Reading stops at the first data or
    /// close message, or once [`STASHED_CONTROL`] pongs wait, until the
    /// stream takes them; of the pings (each answered already) only the
    /// latest are kept.
    fn read_for_sink(&mut self, cx: &mut Context<'_>) {
        let waiting = self.stash.len();
        while self.sink_may_read() {
            match self.ws.poll_event() {
                Ok(Some(event)) => {
                    let message = self.on_event(event);
                    if message.is_ping()
                        && self.stash.len() >= STASHED_CONTROL
                        && let Some(oldest) = self.stash.iter().position(Message::is_ping)
                    {
                        self.stash.remove(oldest);
                    }
                    self.stash.push_back(message);
                    continue;
                }
                Ok(None) => {}
                Err(err) => {
                    self.fail(Error::Protocol(err));
                    break;
                }
            }
            if self.replies_over_high_water() {
                break;
            }
            match self.poll_fill(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => {
                    self.fail(err);
                    break;
                }
                Poll::Pending => break,
            }
        }
        if self.stash.len() != waiting || self.failed {
            // A reader parked on the transport will not hear of this from
            // it: the bytes are taken.
            cx.waker().wake_by_ref();
        }
    }

    /// Whether the sink may read on: nothing waits for the stream that
    /// must not be dropped or overtaken.
    fn sink_may_read(&self) -> bool {
        let pongs = self.stash.iter().filter(|m| m.is_pong()).count();
        pongs < STASHED_CONTROL
            && !self.stash.iter().any(|m| !m.is_ping() && !m.is_pong())
            && !self.is_ending()
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
        self.replies_queued = 0;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Reads once from the transport into the connection: `Ready(Ok)` when
    /// bytes or the end arrived.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.read_eof {
            return Poll::Ready(Ok(()));
        }
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
                Poll::Ready(Err(err)) => return Poll::Ready(Err(self.fail_io(err))),
                Poll::Ready(Ok(())) => {}
            }
            let filled = read.filled();
            if buf.capacity() < filled.len() {
                // Nothing is buffered: a fresh allocation, not a realloc
                // that would copy the old one's stale bytes. A full stack
                // means a burst: make room for the direct reads that follow.
                let room = if filled.len() == STACK_READ {
                    read_size
                } else {
                    filled.len()
                };
                *buf = BytesMut::with_capacity(room.max(filled.len()));
            }
            buf.extend_from_slice(filled);
            filled.len()
        } else {
            if !buf.try_reclaim(read_size) {
                // Move what is buffered (part of a frame) to a new buffer
                // rather than let `reserve` grow the old one, which copies
                // the bytes already decoded too; doubling keeps a large
                // frame's growth linear.
                let mut grown = BytesMut::with_capacity((buf.len() + read_size).max(2 * buf.len()));
                grown.extend_from_slice(buf);
                *buf = grown;
            }
            match ready!(std::pin::pin!(self.io.read_buf(buf)).poll(cx)) {
                Ok(n) => n,
                Err(err) => return Poll::Ready(Err(self.fail_io(err))),
            }
        };
        if n == 0 {
            self.read_eof = true;
            self.ws.receive_eof();
        }
        Poll::Ready(Ok(()))
    }

    // ---- timers -------------------------------------------------------------

    /// Fires the deadlines that passed: sends the keepalive ping, fails the
    /// connection when a pong or the close handshake is overdue.
    fn poll_timers(&mut self, cx: &mut Context<'_>) {
        if let (Some(interval), None) = (self.config.keepalive_interval, self.keepalive.next_ping)
            && !self.is_ending()
        {
            self.keepalive.next_ping = Some(Instant::now() + interval);
            self.rearm();
        }
        loop {
            let Some(timer) = self.timer.as_mut().filter(|_| self.timer_at.is_some()) else {
                return;
            };
            if timer.as_mut().poll(cx).is_pending() {
                return;
            }
            let now = Instant::now();
            let due = |at: Option<Instant>| at.is_some_and(|at| at <= now);
            if due(self.close_due) {
                self.close_due = None;
                self.keepalive = Keepalive::default();
                self.gave_up = true;
                self.fail(Error::CloseTimeout);
            } else if due(self.keepalive.pong_due) {
                self.keepalive = Keepalive::default();
                // RFC 6455 §7.4.1: 1011, "an unexpected condition that
                // prevented it from fulfilling the request".
                self.ws
                    .close(CloseCode::INTERNAL_ERROR, "keepalive timeout");
                self.fail(Error::KeepaliveTimeout);
                self.note_closing();
            } else if due(self.keepalive.next_ping) {
                self.send_keepalive(now);
            }
            self.timer_at = None;
            self.rearm();
        }
    }

    /// Sends the keepalive ping, unless one is still unanswered.
    fn send_keepalive(&mut self, now: Instant) {
        let Some(interval) = self.config.keepalive_interval else {
            return;
        };
        self.keepalive.next_ping = Some(now + interval);
        if self.keepalive.pong_due.is_some() {
            return;
        }
        if let Some(open) = self.ws.as_open() {
            let payload = self.keepalive.sent.to_be_bytes();
            if open.send_ping(&payload).is_ok() {
                self.keepalive.sent += 1;
                self.keepalive.pong_due = Some(now + self.config.keepalive_timeout);
            }
        } else {
            self.keepalive.next_ping = None;
        }
    }
}

/// Queues a message on an open connection; a close is the caller's.
#[inline]
fn send_on<R: Role>(open: &mut Open<R>, message: Message) -> Result<(), LocalError> {
    match message {
        Message::Text(text) => open.send_shared(MessageKind::Text, text.into_bytes()),
        Message::Binary(data) => open.send_shared(MessageKind::Binary, data),
        Message::Ping(data) => open.send_ping(&data),
        Message::Pong(data) => open.send_pong(&data),
        Message::Fragment { kind, data, fin } => open.send_fragment_shared(kind, data, fin),
        Message::Frame(frame) => open.send_frame(&frame),
        Message::Close(_) => Ok(()),
    }
}
