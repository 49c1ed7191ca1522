//! Connection phases as types, and every transition between them:
//!
//! ```text
//!  Pending<R> ──accept/receive──▶ Open<R> ──close()──▶ Closing<R> ──into_closed()──▶ Closed
//!  (handshake)                      │                    ▲
//!                                   └─ peer's Close ─────┘ (sends now fail with LocalError::Closed;
//!                                      or a ProtocolError    close() completes the handshake)
//! ```
//!
//! Sending data is a method of [`Open`] only, and [`Open::close`] consumes it,
//! so sending after `close` does not compile. What the peer decides (its
//! close frame, a protocol error) can't change a type under the caller's
//! feet, so it shows up as [`LocalError::Closed`] on later sends.

use std::io::IoSlice;
use std::marker::PhantomData;

use bytes::{Bytes, BytesMut};

use crate::config::Config;
use crate::conn::Engine;
use crate::error::{LocalError, ProtocolError};
use crate::event::{Event, MessageKind, Utf8Bytes};
use crate::extensions::Extension;
use crate::frame::{CloseCode, CloseFrame, Opcode};
use crate::keys::MaskKeySource;
use crate::role::{Client, Role, Server};

mod sealed {
    pub trait Sealed {}
}

/// A connection phase marker: [`OpenPhase`] or [`ClosingPhase`]. Sealed.
pub trait Phase: sealed::Sealed + Send + Sync + 'static {}

/// Marker: the connection is open; messages may be sent.
#[derive(Debug)]
pub struct OpenPhase;

/// Marker: our close frame is sent; waiting for the peer's.
#[derive(Debug)]
pub struct ClosingPhase;

impl sealed::Sealed for OpenPhase {}
impl sealed::Sealed for ClosingPhase {}
impl Phase for OpenPhase {}
impl Phase for ClosingPhase {}

/// A WebSocket connection after the opening handshake, in role `R` and
/// phase `P`. Use the aliases [`Open`] and [`Closing`].
///
/// The call order is the sans-IO loop:
///
/// 1. feed what the transport read: [`receive`](Self::receive) (or
///    [`receive_eof`](Self::receive_eof) when it ended);
/// 2. drain [`poll_event`](Self::poll_event) until it returns `Ok(None)`;
/// 3. write out [`take_outgoing`](Self::take_outgoing) (or
///    [`poll_transmit`](Self::poll_transmit)), which includes automatic
///    pongs, close replies and the close frame of a protocol error.
#[must_use]
pub struct Connection<R: Role, P: Phase> {
    pub(crate) engine: Engine<R>,
    _phase: PhantomData<P>,
}

/// An open connection: the only phase that can send messages.
pub type Open<R> = Connection<R, OpenPhase>;

/// A connection whose close frame has been sent: it can still receive, but
/// not send.
pub type Closing<R> = Connection<R, ClosingPhase>;

impl<R: Role, P: Phase> std::fmt::Debug for Connection<R, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("engine", &self.engine)
            .finish()
    }
}

impl<R: Role, P: Phase> Connection<R, P> {
    fn with_engine(engine: Engine<R>) -> Self {
        Self {
            engine,
            _phase: PhantomData,
        }
    }

    /// Feeds bytes read from the transport. They are only buffered here;
    /// [`poll_event`](Self::poll_event) decodes them.
    pub fn receive(&mut self, data: &[u8]) {
        self.engine.receive(data);
    }

    /// The receive buffer, so the transport can read straight into it
    /// (e.g. tokio's `read_buf`), saving the copy that `receive` makes.
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        self.engine.recv_buffer()
    }

    /// Reports that the transport ended (wsproto's `receive_data(None)`).
    /// If no close frame came before, the next events end with a
    /// [`Event::Close`] of code 1006.
    pub fn receive_eof(&mut self) {
        self.engine.receive_eof();
    }

    /// Decodes the next event from the received bytes; `Ok(None)` when more
    /// bytes are needed (or nothing more can come).
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] when the peer broke the protocol or a limit. The
    /// connection has then failed: the close frame with the error's code is
    /// already queued; flush the outgoing bytes and close the transport.
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        self.engine.poll_event()
    }

    /// Takes every queued outgoing byte as one buffer.
    pub fn take_outgoing(&mut self) -> Bytes {
        self.engine.outgoing().take()
    }

    /// Takes the next contiguous piece of outgoing bytes; large payloads
    /// queued by reference come out as their own pieces, without a copy.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.engine.outgoing().poll_transmit()
    }

    /// Fills `dst` with the outgoing bytes for a vectored write; returns how
    /// many slices were filled. Call [`advance_outgoing`](Self::advance_outgoing)
    /// with the number of bytes written.
    pub fn outgoing_slices<'a>(&'a mut self, dst: &mut [IoSlice<'a>]) -> usize {
        self.engine.flush_pending_pong();
        self.engine.out.chunks_vectored(dst)
    }

    /// Drops the first `n` outgoing bytes, after the transport wrote them.
    pub fn advance_outgoing(&mut self, n: usize) {
        self.engine.out.advance(n);
    }

    /// Bytes waiting to be written: the back-pressure signal.
    pub fn outgoing_len(&mut self) -> usize {
        self.engine.outgoing().len()
    }

    /// The peer's close frame, once received (1006 if the transport ended
    /// first).
    pub fn close_received(&self) -> Option<&CloseFrame> {
        self.engine.close_received.as_ref()
    }

    /// The protocol error that failed the connection, if any.
    pub fn error(&self) -> Option<&ProtocolError> {
        self.engine.failed.as_ref()
    }

    /// The negotiated extensions.
    pub fn extensions(&self) -> &[Box<dyn Extension>] {
        self.engine.extensions()
    }

    /// The connection's configuration.
    pub fn config(&self) -> &Config {
        &self.engine.config
    }

    /// Whether the close handshake is over (or the connection failed, or the
    /// transport ended): no more events will come, and once the outgoing bytes are written the
    /// transport can be closed (RFC 6455 §7.1.1: the server closes it first).
    pub fn is_closed(&self) -> bool {
        self.engine.failed.is_some()
            || (self.engine.is_done_reading() && (self.engine.close_sent || self.engine.eof))
    }
}

impl<R: Role> Open<R> {
    /// Builds an open connection when the handshake happened elsewhere:
    /// Python wsproto's `Connection(extensions)`. The extensions must already
    /// be negotiated.
    pub fn new(config: Config, extensions: Vec<Box<dyn Extension>>) -> Self {
        Self::with_engine(Engine::new(config, extensions))
    }

    /// Sends a whole text message.
    ///
    /// # Errors
    ///
    /// [`LocalError::Closed`] once the peer's close arrived or the connection
    /// failed; [`LocalError::MessageInProgress`] during a fragmented send;
    /// [`LocalError::OutgoingBufferFull`] when the outgoing buffer is full.
    pub fn send_text(&mut self, text: &str) -> Result<(), LocalError> {
        self.engine
            .send_data(MessageKind::Text, text.as_bytes(), true, false)
    }

    /// Sends a whole binary message. Errors as [`send_text`](Self::send_text).
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), LocalError> {
        self.engine
            .send_data(MessageKind::Binary, data, true, false)
    }

    /// Sends one fragment of a message (RFC 6455 §5.4). The first call
    /// starts a message of `kind`, the call with `fin` set ends it. A
    /// fragmented text message need not be split at character boundaries.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text), and
    /// [`LocalError::FragmentKindMismatch`] if `kind` changes mid-message.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), LocalError> {
        self.engine.send_data(kind, data, fin, true)
    }

    /// Sends a ping (payload at most 125 bytes).
    ///
    /// # Errors
    ///
    /// [`LocalError::ControlPayloadTooLarge`], or as [`send_text`](Self::send_text).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.engine.send_control(Opcode::Ping, payload)
    }

    /// Sends an unsolicited pong, or answers a ping yourself when
    /// `Config::auto_pong` is off.
    ///
    /// # Errors
    ///
    /// As [`send_ping`](Self::send_ping).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.engine.send_control(Opcode::Pong, payload)
    }

    /// Starts (or, after the peer's close, completes) the close handshake.
    ///
    /// The reason is cut to 123 bytes at a character boundary. A code that
    /// may not be sent (see [`CloseCode::is_sendable`]), such as 1005, sends
    /// a close frame without a code. If the close reply was already queued
    /// automatically, nothing more is sent.
    pub fn close(mut self, code: CloseCode, reason: &str) -> Closing<R> {
        self.engine
            .queue_close(&CloseFrame::new(code, reason.to_owned()));
        Connection::with_engine(self.engine)
    }
}

impl Open<Client> {
    /// Replaces the source of masking keys (default: the OS random generator).
    pub fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        self.engine.set_mask_source(source);
    }
}

impl Open<Server> {
    /// Sends a whole binary message; a large payload is queued by reference
    /// and written without a copy (see [`poll_transmit`](Self::poll_transmit)
    /// and [`outgoing_slices`](Self::outgoing_slices)). Server only: client
    /// frames are masked, which needs a copy anyway.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary_shared(&mut self, data: Bytes) -> Result<(), LocalError> {
        self.engine.send_shared(MessageKind::Binary, data)
    }

    /// Sends a whole text message without copying a large payload, as
    /// [`send_binary_shared`](Self::send_binary_shared) does; handy for
    /// echoing or forwarding an [`Event::Text`].
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_text_shared(&mut self, text: Utf8Bytes) -> Result<(), LocalError> {
        self.engine
            .send_shared(MessageKind::Text, text.into_bytes())
    }
}

impl<R: Role> Closing<R> {
    /// Finishes once the peer's close frame (or EOF) has arrived, or the
    /// connection failed; otherwise gives the connection back.
    ///
    /// # Errors
    ///
    /// Returns `self` while the peer's close is still awaited.
    // Handing the whole connection back is the point (rustls' pattern for a
    // transition the peer has not completed yet); boxing it would cost an
    // allocation on every poll of a closing connection.
    #[allow(clippy::result_large_err)]
    pub fn into_closed(self) -> Result<Closed, Self> {
        if self.is_closed() {
            Ok(Closed {
                received: self.engine.close_received.clone(),
                error: self.engine.failed.clone(),
            })
        } else {
            Err(self)
        }
    }
}

/// A finished connection: what the peer said, and whether it failed.
#[derive(Debug, Clone)]
#[must_use]
pub struct Closed {
    received: Option<CloseFrame>,
    error: Option<ProtocolError>,
}

impl Closed {
    /// The peer's close frame (code 1006 if the transport ended without one).
    pub fn received(&self) -> Option<&CloseFrame> {
        self.received.as_ref()
    }

    /// The protocol error that failed the connection, if any.
    pub fn error(&self) -> Option<&ProtocolError> {
        self.error.as_ref()
    }

    /// Whether both close frames were exchanged without a protocol error.
    pub fn was_clean(&self) -> bool {
        self.error.is_none()
            && self
                .received
                .as_ref()
                .is_some_and(|f| f.code != CloseCode::ABNORMAL_CLOSURE)
    }
}
