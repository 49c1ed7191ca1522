//! The inbound path: the receive buffer and its bound, the frame decoder,
//! and the message assembler. One route for every data frame, whole or
//! streamed, compressed or not: unmask (and check text) as bytes arrive,
//! then hand the frame's bytes to the message.

use bytes::{Buf, Bytes, BytesMut};

use super::Engine;
use crate::config::MessageMode;
use crate::error::{LocalError, ProtocolError};
use crate::event::{Event, EventRef, MessageKind, Utf8Bytes};
use crate::extensions::Decoded;
use crate::frame::{CloseFrame, FrameHeader, Opcode, ProtocolErrorKind, Rsv};
use crate::lifecycle::Input;
use crate::mask::{apply_mask, extend_masked};
use crate::relay::Frame;
use crate::role::Role;
use crate::utf8::Utf8Validator;

/// Most decompressed bytes one streamed event carries: a compressed piece
/// that inflates to more is reported over several polls, so streaming
/// memory is bounded by the read size, the inflater's window and this.
pub(crate) const MAX_INFLATED_PIECE: usize = 64 * 1024;

/// Fewest bytes after a frame for which the next frame starts in an
/// allocation of its own (`Inbound::next`): below this, moving them later
/// costs less than a buffer switch.
const SPLIT_AT_LEAST: usize = 4096;

/// Where the decoder is in the inbound byte stream.
#[derive(Debug, Default)]
enum ReadState {
    /// Waiting for a frame header.
    #[default]
    Header,
    /// Inside a frame's payload. `consumed` payload bytes were already taken
    /// out of the receive buffer; the first `scanned` bytes of the receive
    /// buffer are already unmasked (and, for uncompressed text, checked).
    Payload {
        header: FrameHeader,
        consumed: u64,
        scanned: usize,
    },
}

/// What one step of the decoder found, before any event is built. It
/// holds no payload, so the decode loop looks at it cheaply; the event is
/// then built by `emit`, in tail position, straight into the value
/// `poll_event` returns. (Built inside the loop, the event was moved out of
/// a temporary, and loading it back stalled store forwarding: a third of the
/// engine's time for a 16-byte message.)
#[derive(Debug)]
enum Step {
    /// Nothing to report from this frame yet.
    Nothing,
    /// The first `len` buffered bytes are a control frame's whole payload,
    /// still masked with `mask`.
    Control {
        opcode: Opcode,
        len: usize,
        mask: Option<[u8; 4]>,
    },
    /// The first `len` buffered bytes are data, unmasked and checked: in
    /// whole-message mode the end of a message, in streaming mode a piece.
    Data {
        len: usize,
        complete: bool,
        fin: bool,
    },
    /// Frame mode: the first `len` buffered bytes are a piece of a data
    /// frame, unmasked and checked (the frame's header, in parts, beside).
    Frame {
        len: usize,
        opcode: Opcode,
        rsv: Rsv,
        fin: bool,
        start: bool,
        complete: bool,
    },
    /// An extension decoded a message's bytes into the message buffer.
    Decoded {
        frame_done: bool,
        message_done: bool,
    },
}

/// A step of the decoder failed; the error is in the lifecycle state.
#[derive(Debug)]
struct Failed;

/// The data message being received.
#[derive(Debug, Default)]
struct Assembler {
    kind: Option<MessageKind>,
    /// Index of the extension that decodes this message, if any.
    decoder: Option<usize>,
    /// Payload bytes of the message so far (decoded size when compressed).
    size: u64,
    /// Whole-message mode: fragments so far. Also holds decoded output.
    buf: BytesMut,
    utf8: Utf8Validator,
    /// Streaming text: bytes of a character split between pieces.
    carry: BytesMut,
    /// The decoder paused with output still to give.
    decoder_owes: bool,
    /// Frame mode: a text message whose reserved bits an extension claims
    /// (it is compressed). Its bytes pass on as they are, so it is held as
    /// binary (`kind`), unchecked, and reported as text.
    raw_text: bool,
}

impl Assembler {
    fn finish(&mut self) {
        self.kind = None;
        self.decoder = None;
        self.size = 0;
        self.utf8.reset();
        self.carry.clear();
        self.decoder_owes = false;
        self.raw_text = false;
    }
}

/// Everything the inbound direction holds.
#[derive(Debug, Default)]
pub(super) struct Inbound {
    /// Received bytes not yet decoded.
    buf: BytesMut,
    /// When not empty, the stream continues here, after `buf`, which then
    /// holds exactly the rest of the frame being read (held whole, and
    /// complete): the next frame starts at the front of an allocation of
    /// its own, so it never has to be moved to make room for itself
    /// (`receive_rest`). Swapped into `buf` once `buf` is decoded.
    next: BytesMut,
    /// The transport ended after the bytes in `buf`: a property of the byte
    /// stream, like a FIN; the lifecycle changes (`Input::Eof`) only once
    /// the decoder reaches it.
    ended: bool,
    read: ReadState,
    msg: Assembler,
    /// Bytes at the front of `buf` lent out by the last borrowed event
    /// (`poll_event_ref`): decoded, and dropped by `settle` on the next call.
    lent: usize,
}

impl Inbound {
    /// Frees what only decoding needs, once input no longer counts.
    pub(super) fn release(&mut self) {
        self.lent = 0;
        self.buf = BytesMut::new();
        self.next = BytesMut::new();
        self.read = ReadState::Header;
        self.msg = Assembler::default();
    }
}

impl<R: Role> Engine<R> {
    // ---- the receive buffer and its bound ---------------------------------

    /// Drops the bytes a borrowed event held: the borrow has ended, since
    /// this runs on the next call that takes the connection.
    #[inline]
    fn settle(&mut self) {
        let inbound = &mut self.inbound;
        if inbound.lent > 0 {
            inbound.buf.advance(inbound.lent);
            inbound.lent = 0;
        }
    }

    /// How many bytes the receive buffer may hold before `receive` refuses
    /// more: `max_receive_buffer`, or the rest of the frame being read when
    /// that frame must be held whole and is larger.
    fn receive_limit(&self) -> usize {
        let frame_rest = match &self.inbound.read {
            ReadState::Payload {
                header, consumed, ..
            } if self.holds_whole_frame(header) => header.payload_len - consumed,
            _ => 0,
        };
        // max_frame_size bounds the frame's length; saturate on 32-bit.
        let frame_rest = usize::try_from(frame_rest).unwrap_or(usize::MAX);
        // A header must always fit, or a tiny limit could never progress.
        self.config
            .max_receive_buffer
            .max(frame_rest)
            .max(crate::frame::MAX_HEADER_LEN)
    }

    /// Whether a frame's payload is held until the frame is complete
    /// (control frames, and uncompressed data in whole-message mode) rather
    /// than consumed as it arrives.
    fn holds_whole_frame(&self, header: &FrameHeader) -> bool {
        header.opcode.is_control()
            || (self.config.message_mode == MessageMode::Whole
                && self.inbound.msg.decoder.is_none())
    }

    /// The back-pressure check: whether more input may be buffered now.
    fn check_receive(&self) -> Result<(), LocalError> {
        let buffered = self.inbound.buf.len() + self.inbound.next.len();
        let limit = self.receive_limit();
        if buffered >= limit {
            return Err(LocalError::ReceiveBufferFull { buffered, limit });
        }
        Ok(())
    }

    /// Bytes that may still be received before `receive` refuses input.
    pub(crate) fn receive_capacity(&self) -> usize {
        if !self.state.is_reading() || self.inbound.ended {
            return usize::MAX;
        }
        let buffered = self.inbound.buf.len() + self.inbound.next.len() - self.inbound.lent;
        self.receive_limit().saturating_sub(buffered)
    }

    pub(crate) fn receive(&mut self, data: &[u8]) -> Result<(), LocalError> {
        if !self.state.is_reading() || self.inbound.ended {
            // RFC 6455 §5.5.1: after the peer's close "the endpoint MUST
            // treat any data as ... discarded"; after a failure or the end
            // of the transport nothing more counts either.
            return Ok(());
        }
        self.settle();
        self.check_receive()?;
        if !self.inbound.next.is_empty() {
            self.inbound.next.extend_from_slice(data);
            return Ok(());
        }
        let rest = self.receive_payload(data);
        if !rest.is_empty() {
            self.receive_rest(rest, data.len());
        }
        Ok(())
    }

    /// Buffers the bytes that follow the frame being read. When that frame
    /// is held whole and now complete, the next frame's header is here
    /// (`SPLIT_AT_LEAST` bytes and up), and that frame could not be held
    /// whole behind it without growing the buffer, it starts in `next`, at
    /// the front of an allocation of its own: otherwise it would be moved
    /// to make room once its header is read — a second copy of nearly
    /// every message about the size of a read. The allocation is the one
    /// the message before last was received in, when its payloads are gone
    /// and it is large enough (no new memory); or else a fresh one of the
    /// frame's size, only if that is at most the bytes in hand plus one
    /// more read like this one. A larger frame grows with its bytes, as
    /// before.
    fn receive_rest(&mut self, rest: &[u8], read: usize) {
        let frame_ends = match &self.inbound.read {
            ReadState::Payload {
                header, consumed, ..
            } => {
                self.holds_whole_frame(header)
                    && header.payload_len - consumed == self.inbound.buf.len() as u64
            }
            ReadState::Header => false,
        };
        let inbound = &mut self.inbound;
        let room = (inbound.buf.capacity() - inbound.buf.len()) as u64;
        let next_len = if frame_ends && rest.len() >= SPLIT_AT_LEAST {
            match FrameHeader::decode(rest) {
                Ok(Some((header, len))) => header.payload_len.saturating_add(len as u64),
                // Not whole, or not valid: `poll_event` will say which.
                _ => 0,
            }
        } else {
            0
        };
        if next_len <= room {
            inbound.buf.extend_from_slice(rest);
            return;
        }
        let wanted = usize::try_from(next_len)
            .unwrap_or(usize::MAX)
            .max(rest.len());
        if !inbound.next.try_reclaim(wanted) {
            if next_len > rest.len().saturating_add(read) as u64 {
                inbound.buf.extend_from_slice(rest);
                return;
            }
            inbound.next = BytesMut::with_capacity(wanted);
        }
        inbound.next.extend_from_slice(rest);
    }

    /// The copy `receive` makes anyway, used as the scan: the bytes of
    /// `data` that continue the data frame being read — when all that is
    /// buffered of it is already scanned — are unmasked as they are copied
    /// (in L1-sized pieces) and, for uncompressed text, checked at once, so
    /// `poll_event` has no second pass to make over them. Returns the rest of
    /// `data`, from the next frame's header on, for a plain copy.
    fn receive_payload<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        let inbound = &mut self.inbound;
        let ReadState::Payload {
            header,
            consumed,
            scanned,
        } = &mut inbound.read
        else {
            return data;
        };
        let msg = &mut inbound.msg;
        // Control payloads are unmasked when they are taken whole (`emit`),
        // and an extension's bytes go to its decoder in `read_payload`.
        if header.opcode.is_control() || msg.decoder.is_some() || *scanned != inbound.buf.len() {
            return data;
        }
        let missing = header.payload_len - *consumed - inbound.buf.len() as u64;
        // Bounded by `data.len()`, so the cast cannot truncate.
        let (payload, rest) = data.split_at(missing.min(data.len() as u64) as usize);
        let start = inbound.buf.len();
        match header.mask {
            Some(key) => extend_masked(
                &mut inbound.buf,
                payload,
                key,
                (*consumed as usize).wrapping_add(start),
            ),
            None => inbound.buf.extend_from_slice(payload),
        }
        let text = msg.kind == Some(MessageKind::Text);
        // On invalid UTF-8 the bytes stay unscanned: the validator stays
        // failed (it is poisoned), so `scan` fails the frame on the next
        // poll, as if the check had been made there; the bytes are never
        // handed out.
        if !text || msg.utf8.feed(&inbound.buf[start..]).is_ok() {
            *scanned = inbound.buf.len();
        }
        rest
    }

    /// The receive buffer, for reading into it directly. Once input no
    /// longer counts it is emptied on every call, so it holds at most one
    /// read.
    pub(crate) fn receive_buffer(&mut self) -> Result<&mut BytesMut, LocalError> {
        self.settle();
        if !self.state.is_reading() || self.inbound.ended {
            self.inbound.buf.clear();
            self.inbound.next.clear();
        } else {
            self.check_receive()?;
        }
        // The end of the stream: `next` when the stream continues there.
        let inbound = &mut self.inbound;
        Ok(if inbound.next.is_empty() {
            &mut inbound.buf
        } else {
            &mut inbound.next
        })
    }

    pub(crate) fn receive_eof(&mut self) {
        self.inbound.ended = true;
    }

    // ---- decoding ----------------------------------------------------------

    /// Decodes the next event from buffered input. Every error fails the
    /// connection where it is found (`failing`), so the result is never
    /// looked at after it is built: the event is written once, in place.
    // Out of line, each with the whole decode loop inlined into it: inlined
    // into the caller's loop, the step and event moved through memory again.
    #[inline(never)]
    pub(crate) fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        self.decode(Self::emit, |event| event)
    }

    /// As `poll_event`, but a whole message that arrived in one frame
    /// borrows its payload from the receive buffer instead of splitting it
    /// off: no reference count, no atomic operations. The bytes are dropped
    /// on the next call.
    #[inline(never)]
    pub(crate) fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        self.decode(Self::emit_ref, |event| event.map(EventRef::Owned))
    }

    /// The one decode loop of `poll_event` and `poll_event_ref`: decodes
    /// until a step has something to report, which `emit` turns into the
    /// event in tail position, straight into the caller's result; `end`
    /// wraps the event (if any) for exhausted input.
    #[inline(always)]
    fn decode<'a, T>(
        &'a mut self,
        emit: impl FnOnce(&'a mut Self, Step) -> Result<Option<T>, ProtocolError>,
        end: impl FnOnce(Option<Event>) -> Option<T>,
    ) -> Result<Option<T>, ProtocolError> {
        self.settle();
        while self.state.is_reading() {
            // The frame being read lives in locals while it is worked on and
            // is parked in `read` only when it needs more bytes: a frame that
            // arrived whole costs no state writes.
            let (header, consumed, scanned) = match std::mem::take(&mut self.inbound.read) {
                ReadState::Header => {
                    let inbound = &mut self.inbound;
                    if inbound.buf.is_empty() && !inbound.next.is_empty() {
                        std::mem::swap(&mut inbound.buf, &mut inbound.next);
                    }
                    let decoded = FrameHeader::decode(&self.inbound.buf);
                    let Some((header, len)) = self.failing(decoded).map_err(|_| self.failure())?
                    else {
                        break;
                    };
                    let checked = self.check_header(&header);
                    self.failing(checked).map_err(|_| self.failure())?;
                    self.inbound.buf.advance(len);
                    self.make_room(&header);
                    (header, 0, 0)
                }
                ReadState::Payload {
                    header,
                    consumed,
                    scanned,
                } => (header, consumed, scanned),
            };
            let step = self.read_payload(header, consumed, scanned);
            match step.map_err(|_| self.failure())? {
                // A frame parked for more bytes waits for them, unless its
                // decoder still owes output; otherwise the next header is due.
                Step::Nothing => {
                    if matches!(self.inbound.read, ReadState::Payload { .. })
                        && !self.inbound.msg.decoder_owes
                    {
                        break;
                    }
                }
                step => return emit(self, step),
            }
        }
        Ok(end(self.at_end_of_input()))
    }

    /// A frame held whole that has not fully arrived: if the allocation
    /// already behind the buffer can take the whole frame once what is
    /// consumed in front of it is reclaimed, move the frame's first bytes to
    /// the front now, while they are few. Otherwise the buffer would grow
    /// (and move the frame) only when its end is reached, by which time
    /// most of the frame has arrived — a second copy of about half of every
    /// large message. Never allocates: memory still grows only with the
    /// bytes received.
    fn make_room(&mut self, header: &FrameHeader) {
        let Ok(len) = usize::try_from(header.payload_len) else {
            return;
        };
        let buf = &self.inbound.buf;
        if len > buf.len() && len > buf.capacity() && self.holds_whole_frame(header) {
            let missing = len - buf.len();
            // When it cannot (the allocation is too small, or a payload
            // still shares it), the buffer grows as bytes arrive, as before.
            let _reclaimed = self.inbound.buf.try_reclaim(missing);
        }
    }

    /// Fails the connection if `result` is an error. What is handed on is
    /// only that it failed, so results stay small (returned in registers);
    /// the error itself is in the lifecycle state ([`Self::failure`]).
    fn failing<T, E: Into<ProtocolError>>(&mut self, result: Result<T, E>) -> Result<T, Failed> {
        result.map_err(|err| {
            self.fail(err.into());
            Failed
        })
    }

    /// The error the connection failed with.
    #[cold]
    fn failure(&self) -> ProtocolError {
        self.state.error().cloned().unwrap_or_else(|| {
            // `fail` always records the error while decoding (the lifecycle
            // table moves every reading state to `Failed`).
            ProtocolError::new(crate::frame::CloseCode::INTERNAL_ERROR, "decoder failed")
        })
    }

    /// Input is exhausted: nothing more unless the transport has ended, in
    /// which case the close is abnormal (1006) — wsproto's `receive_data(None)`.
    fn at_end_of_input(&mut self) -> Option<Event> {
        if !self.inbound.ended || !self.state.is_reading() {
            return None;
        }
        self.transition(Input::Eof);
        self.state.close_received().cloned().map(Event::Close)
    }

    /// Everything RFC 6455 lets us decide from a header, before its payload.
    fn check_header(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        // §5.1: "A server MUST NOT mask any frames that it sends to the
        // client. A client MUST close a connection if it detects a masked
        // frame." / "The server MUST close the connection upon receiving a
        // frame that is not masked."
        if R::IS_CLIENT && header.mask.is_some() {
            return Err(ProtocolErrorKind::MaskedFrameFromServer.into());
        }
        if !R::IS_CLIENT && header.mask.is_none() {
            return Err(ProtocolErrorKind::UnmaskedFrameFromClient.into());
        }
        // §5.2: "If a nonzero value is received and none of the negotiated
        // extensions defines the meaning of such a nonzero value, the
        // receiving endpoint MUST _Fail the WebSocket Connection_."
        let starts_message = matches!(header.opcode, Opcode::Text | Opcode::Binary);
        let allowed = if starts_message {
            self.claimed_rsv
        } else {
            Rsv::NONE
        };
        if !header.rsv.difference(allowed).is_empty() {
            return Err(ProtocolErrorKind::ReservedBitsSet.into());
        }
        if header.payload_len > self.config.max_frame_size {
            return Err(ProtocolErrorKind::FrameTooLarge.into());
        }
        let msg = &mut self.inbound.msg;
        match header.opcode {
            // §5.4: fragments of one message are not interleaved with another.
            Opcode::Continuation if msg.kind.is_none() => {
                Err(ProtocolErrorKind::UnexpectedContinuation.into())
            }
            Opcode::Text | Opcode::Binary if msg.kind.is_some() => {
                Err(ProtocolErrorKind::InterleavedMessage.into())
            }
            Opcode::Text | Opcode::Binary => {
                msg.kind = Some(if header.opcode == Opcode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                });
                msg.decoder = None;
                for (i, ext) in self.extensions.iter_mut().enumerate() {
                    if ext.decode_start(header.rsv)? {
                        msg.decoder = Some(i);
                        break;
                    }
                }
                // Frame mode transforms nothing: the extension still judged
                // the bits (RSV1 without a negotiated deflate is 1002), but
                // the message passes through as it is. Only messages an
                // extension claims pay for the check.
                if msg.decoder.is_some() && self.config.message_mode == MessageMode::Frames {
                    msg.decoder = None;
                    msg.raw_text = msg.kind == Some(MessageKind::Text);
                    msg.kind = Some(MessageKind::Binary);
                }
                self.check_message_size(header.payload_len)
            }
            Opcode::Continuation => self.check_message_size(header.payload_len),
            Opcode::Close | Opcode::Ping | Opcode::Pong => Ok(()),
        }
    }

    /// Fails early, from a header, a message that will go over the limit.
    /// A compressed message is measured as it is decoded.
    fn check_message_size(&self, frame_len: u64) -> Result<(), ProtocolError> {
        let msg = &self.inbound.msg;
        if msg.decoder.is_none()
            && msg.size.saturating_add(frame_len) > self.config.max_message_size
        {
            return Err(ProtocolErrorKind::MessageTooLarge.into());
        }
        Ok(())
    }

    /// Adds `n` payload bytes to the message: the one place its size grows.
    fn grow_message(&mut self, n: usize) -> Result<(), ProtocolErrorKind> {
        let msg = &mut self.inbound.msg;
        msg.size = msg.size.saturating_add(n as u64);
        if msg.size > self.config.max_message_size {
            return Err(ProtocolErrorKind::MessageTooLarge);
        }
        Ok(())
    }

    /// Advances inside a frame's payload: `consumed` payload bytes were
    /// taken before, and the first `scanned` buffered bytes are unmasked.
    #[inline(always)]
    fn read_payload(
        &mut self,
        header: FrameHeader,
        consumed: u64,
        mut scanned: usize,
    ) -> Result<Step, Failed> {
        let remaining = header.payload_len - consumed;
        // Bounded by the buffer length, so the cast cannot truncate.
        let avail = remaining.min(self.inbound.buf.len() as u64) as usize;
        let complete = avail as u64 == remaining;

        if header.opcode.is_control() {
            if !complete {
                return Ok(self.park(header, consumed, scanned));
            }
            return Ok(Step::Control {
                opcode: header.opcode,
                len: avail,
                mask: header.mask,
            });
        }

        // Unmask (and check uncompressed text) as bytes arrive, so invalid
        // UTF-8 fails fast even inside a frame that has not fully arrived.
        if scanned < avail {
            let scan = self.scan(&header, consumed, scanned, avail, complete);
            self.failing(scan)?;
            scanned = avail;
        }
        if self.inbound.msg.decoder.is_some() {
            let decoded = self.decode_piece(header, consumed, avail, complete);
            return self.failing(decoded);
        }
        let whole = self.config.message_mode == MessageMode::Whole;
        if !complete && (avail == 0 || whole) {
            return Ok(self.park(header, consumed, scanned));
        }
        // Whole mode takes the complete frame; the others take what is here.
        self.took(header, consumed + avail as u64, 0, complete);
        let grown = self.grow_message(avail);
        self.failing(grown)?;
        if !whole && self.config.message_mode == MessageMode::Frames {
            return Ok(Step::Frame {
                len: avail,
                opcode: header.opcode,
                rsv: header.rsv,
                fin: header.fin,
                start: consumed == 0,
                complete,
            });
        }
        if whole && !header.fin {
            // A fragment of a whole message joins the ones before it.
            let inbound = &mut self.inbound;
            inbound.msg.buf.extend_from_slice(&inbound.buf[..avail]);
            inbound.buf.advance(avail);
            return Ok(Step::Nothing);
        }
        Ok(Step::Data {
            len: avail,
            complete,
            fin: header.fin,
        })
    }

    /// Builds the event a step found. Called in tail position, so the event
    /// is written where the caller wants it.
    #[inline(always)]
    fn emit(&mut self, step: Step) -> Result<Option<Event>, ProtocolError> {
        let streaming = self.config.message_mode == MessageMode::Streaming;
        match step {
            Step::Nothing => Ok(None),
            Step::Control { opcode, len, mask } => {
                let mut payload = self.inbound.buf.split_to(len);
                if let Some(key) = mask {
                    apply_mask(&mut payload, key, 0);
                }
                self.on_control(opcode, payload.freeze())
            }
            Step::Data { len, complete, fin } => {
                let piece = self.inbound.buf.split_to(len).freeze();
                if streaming {
                    return self.emit_piece(piece, complete, complete && fin);
                }
                let buf = &mut self.inbound.msg.buf;
                let message = if buf.is_empty() {
                    // A single-frame message goes out without a copy.
                    piece
                } else {
                    buf.extend_from_slice(&piece);
                    buf.split().freeze()
                };
                self.finish_message(message)
            }
            // Frame mode, out of line: the hot arms above stay as they are.
            frame @ Step::Frame { .. } => self.emit_frame(frame),
            Step::Decoded {
                frame_done,
                message_done,
            } => {
                let piece = self.inbound.msg.buf.split().freeze();
                if streaming {
                    return self.emit_piece(piece, frame_done, message_done);
                }
                self.finish_message(piece)
            }
        }
    }

    /// Builds the borrowed form of the event a step found: a whole message
    /// that is one frame's payload, still at the front of the receive
    /// buffer, is lent; everything else is built by `emit`.
    #[inline(always)]
    fn emit_ref(&mut self, step: Step) -> Result<Option<EventRef<'_>>, ProtocolError> {
        let whole = self.config.message_mode == MessageMode::Whole;
        match step {
            Step::Data { len, .. } if whole && self.inbound.msg.buf.is_empty() => {
                let msg = &mut self.inbound.msg;
                let kind = msg.kind;
                let finished = msg.utf8.finish();
                msg.finish();
                if kind == Some(MessageKind::Text) && finished.is_err() {
                    return Err(self.fail(ProtocolErrorKind::InvalidUtf8.into()));
                }
                self.inbound.lent = len;
                let payload = &self.inbound.buf[..len];
                Ok(Some(match kind {
                    Some(MessageKind::Text) => EventRef::Text(crate::utf8::validated_str(payload)),
                    _ => EventRef::Binary(payload),
                }))
            }
            step => self.emit(step).map(|event| event.map(EventRef::Owned)),
        }
    }

    /// Moves the decoder on after payload bytes were taken: to the next
    /// header once the frame is done (where `decode_next` left it),
    /// otherwise further into the frame.
    fn took(&mut self, header: FrameHeader, consumed: u64, scanned: usize, frame_done: bool) {
        if !frame_done {
            self.park(header, consumed, scanned);
        }
    }

    /// Keeps an unfinished frame for the next call.
    fn park(&mut self, header: FrameHeader, consumed: u64, scanned: usize) -> Step {
        self.inbound.read = ReadState::Payload {
            header,
            consumed,
            scanned,
        };
        Step::Nothing
    }

    /// Unmasks `buf[scanned..avail]` and, for uncompressed text, checks it.
    fn scan(
        &mut self,
        header: &FrameHeader,
        consumed: u64,
        scanned: usize,
        avail: usize,
        complete: bool,
    ) -> Result<(), ProtocolErrorKind> {
        let fresh = &mut self.inbound.buf[scanned..avail];
        if let Some(key) = header.mask {
            apply_mask(fresh, key, (consumed as usize).wrapping_add(scanned));
        }
        let msg = &mut self.inbound.msg;
        if msg.decoder.is_none() && msg.kind == Some(MessageKind::Text) {
            // The rest of the message is all here, and no character is split
            // before it: one validation pass, with no carry to track.
            // (`at_boundary`, not `pending_len() == 0`: a validator that
            // already failed must fail these bytes too.)
            let ends_message = complete && header.fin && msg.utf8.at_boundary();
            let checked = if ends_message {
                crate::utf8::validate(fresh)
            } else {
                msg.utf8.feed(fresh)
            };
            checked.map_err(|_| ProtocolErrorKind::InvalidUtf8)?;
        }
        Ok(())
    }

    /// The bytes of a message an extension decodes, fed as they arrive, in
    /// both modes (RFC 7692 compresses the message, not the frame).
    #[inline(never)]
    fn decode_piece(
        &mut self,
        header: FrameHeader,
        consumed: u64,
        avail: usize,
        complete: bool,
    ) -> Result<Step, ProtocolError> {
        if avail == 0 && !complete && !self.inbound.msg.decoder_owes {
            return Ok(self.park(header, consumed, avail));
        }
        let streaming = self.config.message_mode == MessageMode::Streaming;
        let max_out = if streaming {
            MAX_INFLATED_PIECE
        } else {
            usize::MAX
        };
        let fin = complete && header.fin;
        let msg = &mut self.inbound.msg;
        let index = msg.decoder.unwrap_or_default();
        let budget = self.config.max_message_size.saturating_sub(msg.size);
        let start = msg.buf.len();
        let Decoded {
            consumed: used,
            done,
        } = self.extensions[index].decode(
            &self.inbound.buf[..avail],
            fin,
            budget,
            max_out,
            &mut msg.buf,
        )?;
        let produced = self.inbound.msg.buf.len() - start;
        if !done && used == 0 && produced == 0 {
            return Err(ProtocolError::new(
                crate::frame::CloseCode::INTERNAL_ERROR,
                "extension made no progress",
            ));
        }
        self.inbound.buf.advance(used);
        self.inbound.msg.decoder_owes = !done;
        let frame_done = complete && done;
        self.took(header, consumed + used as u64, avail - used, frame_done);
        self.grow_message(produced)?;
        let msg = &mut self.inbound.msg;
        if msg.kind == Some(MessageKind::Text) {
            msg.utf8
                .feed(&msg.buf[start..])
                .map_err(|_| ProtocolError::from(ProtocolErrorKind::InvalidUtf8))?;
        }
        let message_done = fin && done;
        if (streaming && (produced > 0 || frame_done)) || message_done {
            return Ok(Step::Decoded {
                frame_done,
                message_done,
            });
        }
        // Nothing to report yet: the frame is done, or its decoder owes
        // more output, or (parked) all its bytes so far are decoded.
        Ok(Step::Nothing)
    }

    /// Ends a whole message.
    #[inline(always)]
    fn finish_message(&mut self, message: Bytes) -> Result<Option<Event>, ProtocolError> {
        let msg = &mut self.inbound.msg;
        let kind = msg.kind;
        let finished = msg.utf8.finish();
        msg.finish();
        match kind {
            Some(MessageKind::Text) => {
                if finished.is_err() {
                    return Err(self.fail(ProtocolErrorKind::InvalidUtf8.into()));
                }
                Ok(Some(Event::Text(Utf8Bytes::from_validated(message))))
            }
            _ => Ok(Some(Event::Binary(message))),
        }
    }

    /// Streaming mode: reports a piece of a message. Text pieces are cut at
    /// a character boundary; the split character's bytes wait for the next
    /// piece.
    #[inline(never)]
    fn emit_piece(
        &mut self,
        piece: Bytes,
        frame_finished: bool,
        message_finished: bool,
    ) -> Result<Option<Event>, ProtocolError> {
        let kind = self.inbound.msg.kind;
        if message_finished {
            let finished = self.inbound.msg.utf8.finish();
            if kind == Some(MessageKind::Text) && finished.is_err() {
                return Err(self.fail(ProtocolErrorKind::InvalidUtf8.into()));
            }
        }
        let msg = &mut self.inbound.msg;
        let event = match kind {
            Some(MessageKind::Text) => {
                // Bytes of an unfinished character at the end of the stream
                // so far; they are the tail of `carry ++ piece`.
                let pending = if message_finished {
                    0
                } else {
                    msg.utf8.pending_len()
                };
                let data = if msg.carry.is_empty() && pending == 0 {
                    piece
                } else {
                    msg.carry.extend_from_slice(&piece);
                    let whole = msg.carry.len() - pending;
                    msg.carry.split_to(whole).freeze()
                };
                Event::TextChunk {
                    data: Utf8Bytes::from_validated(data),
                    frame_finished,
                    message_finished,
                }
            }
            _ => Event::BinaryChunk {
                data: piece,
                frame_finished,
                message_finished,
            },
        };
        if message_finished {
            msg.finish();
        }
        Ok(Some(event))
    }

    /// Frame mode: reports a data frame, or the piece of it that is here
    /// ([`Step::Frame`]). A text message's UTF-8 was checked as its bytes
    /// were unmasked; the end of the message must also end a character.
    #[cold]
    #[inline(never)]
    fn emit_frame(&mut self, step: Step) -> Result<Option<Event>, ProtocolError> {
        let Step::Frame {
            len,
            opcode,
            rsv,
            fin,
            start: frame_start,
            complete: frame_end,
        } = step
        else {
            return Ok(None);
        };
        let data = self.inbound.buf.split_to(len).freeze();
        let msg = &mut self.inbound.msg;
        let checked = msg.kind == Some(MessageKind::Text);
        let kind = if checked || msg.raw_text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        if frame_end && fin {
            let finished = msg.utf8.finish();
            msg.finish();
            if checked && finished.is_err() {
                return Err(self.fail(ProtocolErrorKind::InvalidUtf8.into()));
            }
        }
        // The parameters the bits were negotiated under travel with the
        // frame, so the leg that forwards it can check its own against them.
        let origin = if rsv.is_empty() {
            None
        } else {
            self.extensions
                .iter()
                .find(|ext| ext.rsv().contains(rsv))
                .and_then(|ext| ext.relay_params())
        };
        Ok(Some(Event::Frame(Frame {
            opcode,
            kind,
            fin,
            rsv,
            frame_start,
            frame_end,
            data,
            origin,
        })))
    }

    #[inline(never)]
    fn on_control(
        &mut self,
        opcode: Opcode,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        match opcode {
            Opcode::Ping => {
                if self.config.auto_pong {
                    self.answer_ping(&payload);
                }
                Ok(Some(Event::Ping(payload)))
            }
            Opcode::Pong => Ok(Some(Event::Pong(payload))),
            _ => {
                let frame = match CloseFrame::parse(payload) {
                    Ok(frame) => frame,
                    Err(err) => return Err(self.fail(err.into())),
                };
                self.transition(Input::RecvClose(frame.clone()));
                // §5.5.1: "If an endpoint receives a Close frame and did not
                // previously send a Close frame, the endpoint MUST send a
                // Close frame in response." The reply echoes the peer's code
                // and reason ("typically echos the status code it
                // received"); a close without a code is answered with one
                // without a code. A pong still owed answers a ping that came
                // before this close (§5.5.3 exempts only pings received
                // after a Close), so it goes out ahead of the reply.
                if self.config.auto_close {
                    self.queue_close(&frame);
                }
                Ok(Some(Event::Close(frame)))
            }
        }
    }
}
