//! The outbound path: local sends become frames in the outgoing queue,
//! bounded by `Config::max_outgoing_buffer` against what is really queued.

use std::io::IoSlice;

use bytes::{Bytes, BytesMut};

use super::Engine;
use crate::config::MessageMode;
use crate::error::LocalError;
use crate::event::MessageKind;
use crate::extensions::deflate::Negotiated;
use crate::frame::{CloseFrame, FrameHeader, MAX_CONTROL_PAYLOAD, Opcode, Rsv};
use crate::keys::OsRandomKeys;
use crate::lifecycle::Input;
use crate::mask::extend_masked;
use crate::relay::{Frame, can_relay};
use crate::role::Role;

/// Below this size a shared payload is copied anyway: a separate queue
/// entry costs more than the copy.
const COPY_BELOW: usize = 4096;

/// A payload to send: borrowed (copied into the queue) or shared (a server
/// queues a large one by reference, for a vectored write).
#[derive(Debug)]
pub(crate) enum Payload<'a> {
    Borrowed(&'a [u8]),
    Shared(Bytes),
}

impl Payload<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Borrowed(data) => data,
            Self::Shared(data) => data,
        }
    }
}

/// Everything the outbound direction holds besides the queue itself.
#[derive(Debug, Default)]
pub(super) struct Outbound {
    /// Scratch buffer for extension output.
    encode_buf: BytesMut,
    /// The kind of the fragmented message being sent, if any.
    sending: Option<MessageKind>,
    /// The payload of the latest ping whose pong did not fit the queue.
    pub(super) pending_pong: Option<Bytes>,
}

impl<R: Role> Engine<R> {
    fn next_mask(&mut self) -> Option<[u8; 4]> {
        R::IS_CLIENT.then(|| {
            self.keys
                .get_or_insert_with(|| Box::new(OsRandomKeys::default()))
                .next_key()
        })
    }

    /// The bytes a frame with `payload_len` bytes of payload takes on the wire.
    fn frame_len(payload_len: usize) -> usize {
        let header = FrameHeader {
            fin: true,
            rsv: Rsv::NONE,
            opcode: Opcode::Binary,
            mask: R::IS_CLIENT.then_some([0; 4]),
            payload_len: payload_len as u64,
        };
        header.encoded_len() + payload_len
    }

    /// Whether a frame of `payload_len` bytes fits the outgoing limit now:
    /// the one budget check for everything queued.
    fn fits(&self, payload_len: usize) -> bool {
        self.out.len().saturating_add(Self::frame_len(payload_len))
            <= self.config.max_outgoing_buffer
    }

    // ---- pongs -------------------------------------------------------------

    /// Answers a ping. §5.5.3: a Ping MUST be answered with a Pong carrying
    /// the same data "unless it already received a Close frame"; a burst may
    /// be answered with the latest ping only. Each ping gets its pong
    /// (Autobahn 2.10 checks that) while the queue has room; from then on
    /// only the latest ping is answered, when the caller drains the queue,
    /// so a flood of pings costs bounded memory.
    pub(super) fn answer_ping(&mut self, payload: &Bytes) {
        if !self.state.may_send() {
            return;
        }
        if self.fits(payload.len()) {
            self.outbound.pending_pong = None;
            self.write_frame(Opcode::Pong, Rsv::NONE, true, payload);
        } else {
            self.outbound.pending_pong = Some(payload.clone());
        }
    }

    /// Writes the coalesced pong once the queue has room for it (or is
    /// empty). Writing it regardless let a caller who watched
    /// `outgoing_len` without draining grow the queue by one pong per ping
    /// (found by the `frame_decoder_client` fuzz target).
    fn flush_pending_pong(&mut self) {
        let fits = match &self.outbound.pending_pong {
            Some(payload) => self.out.is_empty() || self.fits(payload.len()),
            None => false,
        };
        if fits {
            self.write_pending_pong();
        }
    }

    /// Writes the coalesced pong whatever the queue holds: when every byte
    /// is being taken at once, or a close frame is about to end the stream.
    fn write_pending_pong(&mut self) {
        if let Some(payload) = self.outbound.pending_pong.take() {
            self.write_frame(Opcode::Pong, Rsv::NONE, true, &payload);
        }
    }

    // ---- frames ------------------------------------------------------------

    /// Appends one frame to the outgoing queue, masking it as the role
    /// requires. A server queues a large shared payload by reference.
    fn write_frame(&mut self, opcode: Opcode, rsv: Rsv, fin: bool, payload: &[u8]) {
        self.write(opcode, rsv, fin, Payload::Borrowed(payload));
    }

    #[inline]
    fn write(&mut self, opcode: Opcode, rsv: Rsv, fin: bool, payload: Payload<'_>) {
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask: self.next_mask(),
            payload_len: payload.as_slice().len() as u64,
        };
        let (raw, len) = header.encode();
        match payload {
            Payload::Shared(bytes) if header.mask.is_none() && bytes.len() >= COPY_BELOW => {
                self.out.stage_header(&raw[..len]);
                self.out.push_shared(bytes);
            }
            payload => {
                let data = payload.as_slice();
                let staged = &mut self.out.staged;
                staged.reserve(len + data.len());
                put_header(staged, &raw, len);
                match header.mask {
                    None => staged.extend_from_slice(data),
                    Some(key) => extend_masked(staged, data, key, 0),
                }
            }
        }
    }

    /// Whether a frame whose payload is at most `payload_len` bytes may be
    /// queued now.
    fn check_can_send(&self, payload_len: usize) -> Result<(), LocalError> {
        if !self.state.may_send() {
            return Err(LocalError::Closed);
        }
        if !self.fits(payload_len) {
            return Err(LocalError::OutgoingBufferFull {
                queued: self.out.len(),
                limit: self.config.max_outgoing_buffer,
            });
        }
        Ok(())
    }

    /// Sends a whole message, or a fragment of one.
    pub(crate) fn send_data(
        &mut self,
        kind: MessageKind,
        payload: Payload<'_>,
        fin: bool,
        fragment: bool,
    ) -> Result<(), LocalError> {
        if !self.state.may_send() {
            return Err(LocalError::Closed);
        }
        let first = match (self.outbound.sending, fragment) {
            (Some(_), false) => return Err(LocalError::MessageInProgress),
            (Some(sending), true) if sending != kind => {
                return Err(LocalError::FragmentKindMismatch);
            }
            (Some(_), true) => false,
            (None, _) => true,
        };
        self.flush_pending_pong();
        // The limit bounds what is queued, so an extension's output is
        // counted at its largest: refusing after a compressor has taken the
        // data would break its shared window with the peer.
        let len = payload.as_slice().len();
        let bound = self
            .extensions
            .iter()
            .map(|ext| ext.max_encoded_len(len))
            .fold(len, usize::max);
        self.check_can_send(bound)?;
        let opcode = match (first, kind) {
            (false, _) => Opcode::Continuation,
            (true, MessageKind::Text) => Opcode::Text,
            (true, MessageKind::Binary) => Opcode::Binary,
        };
        let mut encoded = None;
        // Frame mode compresses nothing of its own: a message we compressed
        // would enter the peer's shared window, which the messages relayed
        // untouched were not compressed against.
        if self.config.message_mode != MessageMode::Frames {
            for ext in &mut self.extensions {
                self.outbound.encode_buf.clear();
                if let Some(rsv) = ext.encode(
                    kind,
                    payload.as_slice(),
                    first,
                    fin,
                    &mut self.outbound.encode_buf,
                )? {
                    encoded = Some(rsv);
                    break;
                }
            }
        }
        match encoded {
            Some(rsv) => {
                let body = std::mem::take(&mut self.outbound.encode_buf);
                debug_assert!(
                    body.len() <= bound,
                    "extension exceeded max_encoded_len: {} > {bound}",
                    body.len()
                );
                self.write_frame(opcode, rsv, fin, &body);
                self.outbound.encode_buf = body;
            }
            None => self.write(opcode, Rsv::NONE, fin, payload),
        }
        self.outbound.sending = (!fin).then_some(kind);
        Ok(())
    }

    /// Forwards a frame received in frame mode; see [`crate::relay`]. Each
    /// piece goes out as a complete frame: the first of a message with the
    /// frame's opcode and reserved bits, the others as continuations.
    pub(crate) fn send_frame(&mut self, frame: &Frame) -> Result<(), LocalError> {
        if !self.state.may_send() {
            return Err(LocalError::Closed);
        }
        let continues = frame.opcode == Opcode::Continuation || !frame.frame_start;
        let starts = match self.outbound.sending {
            None if continues => {
                return Err(LocalError::CannotRelay(
                    "a continuation of a message that was not forwarded here".into(),
                ));
            }
            None => true,
            Some(_) if !continues => return Err(LocalError::MessageInProgress),
            Some(kind) if kind != frame.kind => return Err(LocalError::FragmentKindMismatch),
            Some(_) => false,
        };
        // Reserved bits belong on a message's first frame only (RFC 7692 §6).
        let rsv = if starts { frame.rsv } else { Rsv::NONE };
        if !rsv.is_empty() {
            self.check_relay(rsv, frame.origin.as_ref())?;
        }
        self.flush_pending_pong();
        self.check_can_send(frame.data.len())?;
        let opcode = if starts {
            frame.opcode
        } else {
            Opcode::Continuation
        };
        let fin = frame.fin && frame.frame_end;
        self.write(opcode, rsv, fin, Payload::Shared(frame.data.clone()));
        self.outbound.sending = (!fin).then_some(frame.kind);
        Ok(())
    }

    /// Whether a message whose first frame has `rsv`, compressed under the
    /// receiving leg's `origin`, may go out untouched on this connection.
    fn check_relay(&self, rsv: Rsv, origin: Option<&Negotiated>) -> Result<(), LocalError> {
        let here = self
            .extensions
            .iter()
            .find(|ext| ext.rsv().contains(rsv))
            .and_then(|ext| ext.relay_params());
        match (origin, here) {
            (Some(from), Some(to)) if can_relay(from, &to) => Ok(()),
            (Some(_), Some(_)) => Err(LocalError::CannotRelay(
                "the permessage-deflate parameters of the two connections differ".into(),
            )),
            _ => Err(LocalError::CannotRelay(
                "the frame's reserved bits are not negotiated on both connections".into(),
            )),
        }
    }

    pub(crate) fn send_control(
        &mut self,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<(), LocalError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(LocalError::ControlPayloadTooLarge(payload.len()));
        }
        self.flush_pending_pong();
        self.check_can_send(payload.len())?;
        self.write_frame(opcode, Rsv::NONE, true, payload);
        Ok(())
    }

    /// Queues our close frame, once. Codes that may not be sent (1005, 1006,
    /// 1015, out of range) go out as a close frame without a code.
    pub(crate) fn queue_close(&mut self, frame: &CloseFrame) {
        if !self.state.may_send_close() {
            return;
        }
        // Nothing may follow the close frame, so an owed pong goes now.
        self.write_pending_pong();
        let mut payload = BytesMut::new();
        if frame.code.is_sendable() {
            frame.write_payload(&mut payload);
        }
        self.write_frame(Opcode::Close, Rsv::NONE, true, &payload);
        self.outbound.sending = None;
        self.transition(Input::SendClose);
    }

    // ---- the outgoing queue ------------------------------------------------

    /// Bytes waiting to be written, the owed pong included. Changes nothing.
    pub(crate) fn outgoing_len(&self) -> usize {
        let pong = self
            .outbound
            .pending_pong
            .as_ref()
            .map_or(0, |payload| Self::frame_len(payload.len()));
        self.out.len() + pong
    }

    /// Every queued byte as one buffer.
    pub(crate) fn take_outgoing(&mut self) -> Bytes {
        // Everything leaves now, so the owed pong fits whatever the limit.
        self.write_pending_pong();
        self.out.take()
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        self.flush_pending_pong();
        self.out.poll_transmit()
    }

    pub(crate) fn outgoing_slices<'a>(&'a mut self, dst: &mut [IoSlice<'a>]) -> usize {
        self.flush_pending_pong();
        self.out.chunks_vectored(dst)
    }

    pub(crate) fn advance_outgoing(&mut self, n: usize) {
        self.out.advance(n);
    }
}

/// Appends an encoded header of `len` bytes. Each length a header can have
/// gets its own fixed-size copy, which compiles to a few moves instead of a
/// call to `memcpy` (a tenth of a small message's encode).
#[inline(always)]
fn put_header(out: &mut BytesMut, raw: &[u8; crate::frame::MAX_HEADER_LEN], len: usize) {
    match len {
        2 => out.extend_from_slice(&raw[..2]),
        4 => out.extend_from_slice(&raw[..4]),
        6 => out.extend_from_slice(&raw[..6]),
        8 => out.extend_from_slice(&raw[..8]),
        10 => out.extend_from_slice(&raw[..10]),
        _ => out.extend_from_slice(&raw[..len]),
    }
}
