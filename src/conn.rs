//! The engine shared by every phase: receive buffer, frame decoder, message
//! assembler and outgoing queue. Bytes flow in one direction:
//! `receive` → frames → messages → events, and sends → frames → outgoing.

use std::marker::PhantomData;

use bytes::{Buf, Bytes, BytesMut};

use crate::config::{Config, MessageMode};
use crate::error::{LocalError, ProtocolError};
use crate::event::{Event, MessageKind, Utf8Bytes};
use crate::extensions::Extension;
use crate::frame::{CloseCode, CloseFrame, FrameHeader, MAX_CONTROL_PAYLOAD, Opcode, Rsv};
use crate::keys::{MaskKeySource, OsRandomKeys};
use crate::mask::apply_mask;
use crate::outgoing::Outgoing;
use crate::role::Role;
use crate::utf8::Utf8Validator;

/// Where the decoder is in the inbound byte stream.
#[derive(Debug)]
enum ReadState {
    /// Waiting for a frame header.
    Header,
    /// Inside a frame's payload. `consumed` payload bytes were already taken
    /// out of the receive buffer (streaming mode); the first `scanned` bytes
    /// of the receive buffer are already unmasked (and UTF-8 checked).
    Payload {
        header: FrameHeader,
        consumed: u64,
        scanned: usize,
    },
    /// A close frame was received or the connection failed: input is ignored.
    Done,
}

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
}

impl Assembler {
    fn finish(&mut self) {
        self.kind = None;
        self.decoder = None;
        self.size = 0;
        self.utf8.reset();
        self.carry.clear();
    }
}

/// What kind of message the caller is sending in fragments.
#[derive(Debug, Clone, Copy)]
struct SendingFragments {
    kind: MessageKind,
}

/// The protocol engine behind every connection phase.
pub(crate) struct Engine<R: Role> {
    pub(crate) config: Config,
    recv: BytesMut,
    read: ReadState,
    msg: Assembler,
    pub(crate) out: Outgoing,
    extensions: Vec<Box<dyn Extension>>,
    /// The union of the bits the extensions claim.
    claimed_rsv: Rsv,
    keys: Option<Box<dyn MaskKeySource>>,
    /// Scratch buffer for extension output on send.
    encode_buf: BytesMut,
    sending: Option<SendingFragments>,
    pending_pong: Option<Bytes>,
    pub(crate) eof: bool,
    pub(crate) close_sent: bool,
    pub(crate) close_received: Option<CloseFrame>,
    pub(crate) failed: Option<ProtocolError>,
    _role: PhantomData<R>,
}

impl<R: Role> std::fmt::Debug for Engine<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("role", &if R::IS_CLIENT { "client" } else { "server" })
            .field("buffered", &self.recv.len())
            .field("read", &self.read)
            .field("outgoing", &self.out.len())
            .field("extensions", &self.extensions)
            .field("close_sent", &self.close_sent)
            .field("close_received", &self.close_received)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

fn protocol_error(reason: &'static str) -> ProtocolError {
    ProtocolError::new(CloseCode::PROTOCOL_ERROR, reason)
}

fn too_big(reason: &'static str) -> ProtocolError {
    ProtocolError::new(CloseCode::MESSAGE_TOO_BIG, reason)
}

fn invalid_utf8() -> ProtocolError {
    // RFC 6455 §8.1: an endpoint that finds a text byte stream is not valid
    // UTF-8 "MUST _Fail the WebSocket Connection_"; §7.4.1 names 1007.
    ProtocolError::new(
        CloseCode::INVALID_FRAME_PAYLOAD_DATA,
        "text is not valid UTF-8",
    )
}

impl<R: Role> Engine<R> {
    pub(crate) fn new(config: Config, extensions: Vec<Box<dyn Extension>>) -> Self {
        let claimed_rsv = extensions
            .iter()
            .fold(Rsv::NONE, |acc, ext| acc.union(ext.rsv()));
        Self {
            config,
            recv: BytesMut::new(),
            read: ReadState::Header,
            msg: Assembler::default(),
            out: Outgoing::default(),
            extensions,
            claimed_rsv,
            keys: None,
            encode_buf: BytesMut::new(),
            sending: None,
            pending_pong: None,
            eof: false,
            close_sent: false,
            close_received: None,
            failed: None,
            _role: PhantomData,
        }
    }

    pub(crate) fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        self.keys = Some(source);
    }

    pub(crate) fn extensions(&self) -> &[Box<dyn Extension>] {
        &self.extensions
    }

    // ---- input ------------------------------------------------------------

    pub(crate) fn receive(&mut self, data: &[u8]) {
        if !matches!(self.read, ReadState::Done) && !self.eof {
            self.recv.extend_from_slice(data);
        }
    }

    pub(crate) fn receive_eof(&mut self) {
        self.eof = true;
    }

    pub(crate) fn recv_buffer(&mut self) -> &mut BytesMut {
        &mut self.recv
    }

    /// Whether no more events can come.
    pub(crate) fn is_done_reading(&self) -> bool {
        matches!(self.read, ReadState::Done)
    }

    /// Decodes the next event from buffered input.
    pub(crate) fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        match self.decode_next() {
            Ok(event) => Ok(event),
            Err(err) => Err(self.fail(err)),
        }
    }

    /// Fails the connection: queue the close frame, stop reading.
    fn fail(&mut self, err: ProtocolError) -> ProtocolError {
        self.read = ReadState::Done;
        self.recv = BytesMut::new();
        self.msg = Assembler::default();
        self.pending_pong = None;
        if !self.close_sent {
            self.queue_close(&err.close_frame());
        }
        self.failed = Some(err.clone());
        err
    }

    fn decode_next(&mut self) -> Result<Option<Event>, ProtocolError> {
        loop {
            match &mut self.read {
                ReadState::Done => return Ok(None),
                ReadState::Header => {
                    let Some((header, len)) = FrameHeader::decode(&self.recv)? else {
                        return Ok(self.at_end_of_input());
                    };
                    self.check_header(&header)?;
                    if let Some(event) = self.whole_single_frame(&header, len)? {
                        return Ok(Some(event));
                    }
                    self.recv.advance(len);
                    self.read = ReadState::Payload {
                        header,
                        consumed: 0,
                        scanned: 0,
                    };
                }
                ReadState::Payload { .. } => {
                    if let Some(event) = self.read_payload()? {
                        return Ok(Some(event));
                    }
                    if matches!(self.read, ReadState::Payload { .. }) {
                        return Ok(self.at_end_of_input());
                    }
                }
            }
        }
    }

    /// The common case in one step: a single-frame text or binary message,
    /// wholly buffered, that no extension decodes, in whole-message mode.
    /// The checks and the result are those of the way through
    /// `ReadState::Payload`, `read_payload` and `on_data_frame`; skipping
    /// those state changes took a third off the engine's cost per small
    /// message (callgrind, benches/peers.rs `decode_binary/wsproto/16`).
    /// Returns `Ok(None)`, having consumed nothing, when the frame does not
    /// qualify.
    fn whole_single_frame(
        &mut self,
        header: &FrameHeader,
        header_len: usize,
    ) -> Result<Option<Event>, ProtocolError> {
        let single = header.fin && matches!(header.opcode, Opcode::Text | Opcode::Binary);
        if !single
            || self.msg.decoder.is_some()
            || self.config.message_mode != MessageMode::Whole
            // In u64: the declared length is only bounded by max_frame_size.
            || (self.recv.len() as u64) < header_len as u64 + header.payload_len
        {
            return Ok(None);
        }
        self.recv.advance(header_len);
        // Fits: it is at most the buffer's length.
        let mut payload = self.recv.split_to(header.payload_len as usize);
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        // The whole message is here: one validation pass, no carry to track.
        if self.msg.kind == Some(MessageKind::Text) {
            crate::utf8::validate(&payload).map_err(|_| invalid_utf8())?;
        }
        self.finish_message(payload.freeze()).map(Some)
    }

    /// Input is exhausted: nothing more unless the transport has ended, in
    /// which case the close is abnormal (1006) — wsproto's `receive_data(None)`.
    fn at_end_of_input(&mut self) -> Option<Event> {
        if !self.eof {
            return None;
        }
        self.read = ReadState::Done;
        let frame = CloseFrame::new(CloseCode::ABNORMAL_CLOSURE, "");
        self.close_received = Some(frame.clone());
        Some(Event::Close(frame))
    }

    /// Everything RFC 6455 lets us decide from a header, before its payload.
    fn check_header(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        // §5.1: "A server MUST NOT mask any frames that it sends to the
        // client. A client MUST close a connection if it detects a masked
        // frame." / "The server MUST close the connection upon receiving a
        // frame that is not masked."
        if R::IS_CLIENT && header.mask.is_some() {
            return Err(protocol_error("masked frame from the server"));
        }
        if !R::IS_CLIENT && header.mask.is_none() {
            return Err(protocol_error("unmasked frame from the client"));
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
            return Err(protocol_error("reserved bit set that no extension claims"));
        }
        if header.payload_len > self.config.max_frame_size {
            return Err(too_big("frame larger than max_frame_size"));
        }
        match header.opcode {
            // §5.4: fragments of one message are not interleaved with another.
            Opcode::Continuation if self.msg.kind.is_none() => Err(protocol_error(
                "continuation frame without a message to continue",
            )),
            Opcode::Text | Opcode::Binary if self.msg.kind.is_some() => Err(protocol_error(
                "new data message before the previous one finished",
            )),
            Opcode::Text | Opcode::Binary => {
                self.msg.kind = Some(if header.opcode == Opcode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                });
                self.msg.decoder = None;
                for (i, ext) in self.extensions.iter_mut().enumerate() {
                    if ext.decode_start(header.rsv)? {
                        self.msg.decoder = Some(i);
                        break;
                    }
                }
                self.check_message_size(header.payload_len)
            }
            Opcode::Continuation => self.check_message_size(header.payload_len),
            Opcode::Close | Opcode::Ping | Opcode::Pong => Ok(()),
        }
    }

    fn check_message_size(&self, frame_len: u64) -> Result<(), ProtocolError> {
        // A compressed message is measured after decoding, in `decode_frame`.
        if self.msg.decoder.is_none()
            && self.msg.size.saturating_add(frame_len) > self.config.max_message_size
        {
            return Err(too_big("message larger than max_message_size"));
        }
        Ok(())
    }

    /// Advances inside a frame's payload; returns an event when one is ready.
    fn read_payload(&mut self) -> Result<Option<Event>, ProtocolError> {
        let ReadState::Payload {
            header,
            consumed,
            scanned,
        } = &mut self.read
        else {
            return Ok(None);
        };
        let header = *header;
        let remaining = header.payload_len - *consumed;
        // Bounded by the buffer length, so the cast cannot truncate.
        let avail = remaining.min(self.recv.len() as u64) as usize;
        let complete = avail as u64 == remaining;

        if header.opcode.is_control() {
            if !complete {
                return Ok(None);
            }
            let mut payload = self.recv.split_to(avail);
            if let Some(key) = header.mask {
                apply_mask(&mut payload, key, 0);
            }
            self.read = ReadState::Header;
            return self.on_control(header.opcode, payload.freeze());
        }

        let decoded = self.msg.decoder.is_some();
        // Unmask (and check text) as bytes arrive, so invalid UTF-8 fails
        // fast even inside a frame that has not fully arrived.
        if *scanned < avail {
            let fresh = &mut self.recv[*scanned..avail];
            if let Some(key) = header.mask {
                apply_mask(fresh, key, (*consumed as usize).wrapping_add(*scanned));
            }
            if !decoded && self.msg.kind == Some(MessageKind::Text) {
                self.msg.utf8.feed(fresh).map_err(|_| invalid_utf8())?;
            }
            *scanned = avail;
        }

        let streaming = self.config.message_mode == MessageMode::Streaming;
        if streaming && !decoded {
            if avail == 0 && !complete {
                return Ok(None);
            }
            *consumed += avail as u64;
            *scanned = 0;
            let piece = self.recv.split_to(avail).freeze();
            if complete {
                self.read = ReadState::Header;
            }
            self.msg.size += avail as u64;
            return self.emit_piece(piece, complete, complete && header.fin);
        }
        if !complete {
            return Ok(None);
        }
        let payload = self.recv.split_to(avail);
        self.read = ReadState::Header;
        match self.msg.decoder {
            Some(index) => self.decode_frame(index, &payload, header.fin),
            None => self.on_data_frame(payload, header.fin),
        }
    }

    /// Whole-message mode: a complete uncompressed data frame.
    fn on_data_frame(
        &mut self,
        payload: BytesMut,
        fin: bool,
    ) -> Result<Option<Event>, ProtocolError> {
        self.msg.size += payload.len() as u64;
        if !fin {
            self.msg.buf.extend_from_slice(&payload);
            return Ok(None);
        }
        let message = if self.msg.buf.is_empty() {
            // A single-frame message goes out without a copy.
            payload.freeze()
        } else {
            self.msg.buf.extend_from_slice(&payload);
            self.msg.buf.split().freeze()
        };
        self.finish_message(message).map(Some)
    }

    /// A complete frame of a message an extension decodes.
    fn decode_frame(
        &mut self,
        index: usize,
        payload: &[u8],
        fin: bool,
    ) -> Result<Option<Event>, ProtocolError> {
        let budget = self.config.max_message_size.saturating_sub(self.msg.size);
        let start = self.msg.buf.len();
        self.extensions[index].decode(payload, fin, budget, &mut self.msg.buf)?;
        let produced = (self.msg.buf.len() - start) as u64;
        if produced > budget {
            return Err(too_big("decompressed message larger than max_message_size"));
        }
        self.msg.size += produced;
        if self.msg.kind == Some(MessageKind::Text) {
            self.msg
                .utf8
                .feed(&self.msg.buf[start..])
                .map_err(|_| invalid_utf8())?;
        }
        if self.config.message_mode == MessageMode::Streaming {
            let piece = self.msg.buf.split().freeze();
            return self.emit_piece(piece, true, fin);
        }
        if !fin {
            return Ok(None);
        }
        let message = self.msg.buf.split().freeze();
        self.finish_message(message).map(Some)
    }

    /// Ends a whole message.
    fn finish_message(&mut self, message: Bytes) -> Result<Event, ProtocolError> {
        let kind = self.msg.kind;
        let finished = self.msg.utf8.finish();
        self.msg.finish();
        match kind {
            Some(MessageKind::Text) => {
                finished.map_err(|_| invalid_utf8())?;
                Ok(Event::Text(Utf8Bytes::from_validated(message)))
            }
            _ => Ok(Event::Binary(message)),
        }
    }

    /// Streaming mode: reports a piece of a message. Text pieces are cut at
    /// a character boundary; the split character's bytes wait for the next
    /// piece.
    fn emit_piece(
        &mut self,
        piece: Bytes,
        frame_finished: bool,
        message_finished: bool,
    ) -> Result<Option<Event>, ProtocolError> {
        let kind = self.msg.kind;
        if message_finished {
            let finished = self.msg.utf8.finish();
            if kind == Some(MessageKind::Text) {
                finished.map_err(|_| invalid_utf8())?;
            }
        }
        let event = match kind {
            Some(MessageKind::Text) => {
                // Bytes of an unfinished character at the end of the stream
                // so far; they are the tail of `carry ++ piece`.
                let pending = if message_finished {
                    0
                } else {
                    self.msg.utf8.pending_len()
                };
                let data = if self.msg.carry.is_empty() && pending == 0 {
                    piece
                } else {
                    self.msg.carry.extend_from_slice(&piece);
                    let whole = self.msg.carry.len() - pending;
                    self.msg.carry.split_to(whole).freeze()
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
            self.msg.finish();
        }
        Ok(Some(event))
    }

    fn on_control(
        &mut self,
        opcode: Opcode,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        match opcode {
            Opcode::Ping => {
                // §5.5.3: a Ping MUST be answered with a Pong carrying the
                // same data "unless it already received a Close frame"; a
                // burst may be answered with the latest ping only.
                // Each ping gets its pong (Autobahn 2.10 checks that) until
                // the outgoing buffer is full; from then on only the latest
                // ping is answered, when the caller drains the buffer, so a
                // flood of pings costs bounded memory.
                if self.config.auto_pong && !self.close_sent {
                    let frame_len = payload.len() + crate::frame::MAX_HEADER_LEN;
                    if self.out.len() + frame_len <= self.config.max_outgoing_buffer {
                        self.pending_pong = None;
                        self.write_frame(Opcode::Pong, Rsv::NONE, true, &payload);
                    } else {
                        self.pending_pong = Some(payload.clone());
                    }
                }
                Ok(Some(Event::Ping(payload)))
            }
            Opcode::Pong => Ok(Some(Event::Pong(payload))),
            Opcode::Close => {
                let frame = CloseFrame::parse(payload)?;
                self.read = ReadState::Done;
                self.recv = BytesMut::new();
                // A pong still pending answers a ping that came before this
                // close, so it stays owed (§5.5.3 exempts only pings received
                // after a Close); it goes out ahead of the close reply.
                // §5.5.1: "If an endpoint receives a Close frame and did not
                // previously send a Close frame, the endpoint MUST send a
                // Close frame in response."
                // The reply echoes the peer's code and reason ("typically
                // echos the status code it received", §5.5.1); a close
                // without a code is answered with one without a code.
                if self.config.auto_close && !self.close_sent {
                    self.queue_close(&frame);
                }
                self.close_received = Some(frame.clone());
                Ok(Some(Event::Close(frame)))
            }
            Opcode::Continuation | Opcode::Text | Opcode::Binary => Ok(None),
        }
    }

    // ---- output -----------------------------------------------------------

    fn next_mask(&mut self) -> Option<[u8; 4]> {
        R::IS_CLIENT.then(|| {
            self.keys
                .get_or_insert_with(|| Box::new(OsRandomKeys::default()))
                .next_key()
        })
    }

    /// Writes the pong coalesced from received pings, once the outgoing
    /// buffer has room for it (or is empty). Writing it regardless let a
    /// caller who watched `outgoing_len` without draining grow the buffer by
    /// one pong per ping (found by the `frame_decoder_client` fuzz target).
    pub(crate) fn flush_pending_pong(&mut self) {
        let Some(payload) = &self.pending_pong else {
            return;
        };
        let frame_len = payload.len() + crate::frame::MAX_HEADER_LEN;
        if self.out.is_empty() || self.out.len() + frame_len <= self.config.max_outgoing_buffer {
            self.write_pending_pong();
        }
    }

    /// Writes the coalesced pong whatever the buffer holds: when every byte
    /// is being taken at once, or a close frame is about to end the stream.
    pub(crate) fn write_pending_pong(&mut self) {
        if let Some(payload) = self.pending_pong.take() {
            self.write_frame(Opcode::Pong, Rsv::NONE, true, &payload);
        }
    }

    /// Appends one frame to the outgoing buffer, masking it as the role requires.
    fn write_frame(&mut self, opcode: Opcode, rsv: Rsv, fin: bool, payload: &[u8]) {
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask: self.next_mask(),
            payload_len: payload.len() as u64,
        };
        let (raw, len) = header.encode();
        let staged = &mut self.out.staged;
        staged.reserve(len + payload.len());
        staged.extend_from_slice(&raw[..len]);
        let start = staged.len();
        staged.extend_from_slice(payload);
        if let Some(key) = header.mask {
            apply_mask(&mut staged[start..], key, 0);
        }
    }

    /// Whether a frame with `payload_len` bytes of payload may be queued.
    fn check_can_send(&self, payload_len: usize) -> Result<(), LocalError> {
        if self.close_sent || self.close_received.is_some() || self.failed.is_some() {
            return Err(LocalError::Closed);
        }
        let queued = self.out.len();
        let limit = self.config.max_outgoing_buffer;
        // The limit bounds what the buffer holds, so the header counts too.
        let header = FrameHeader {
            fin: true,
            rsv: Rsv::NONE,
            opcode: Opcode::Binary,
            mask: R::IS_CLIENT.then_some([0; 4]),
            payload_len: payload_len as u64,
        }
        .encoded_len();
        if queued.saturating_add(header).saturating_add(payload_len) > limit {
            return Err(LocalError::OutgoingBufferFull { queued, limit });
        }
        Ok(())
    }

    /// Sends a whole message, or a fragment of one.
    pub(crate) fn send_data(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
        fragment: bool,
    ) -> Result<(), LocalError> {
        self.check_can_send(payload.len())?;
        let first = match (self.sending, fragment) {
            (Some(_), false) => return Err(LocalError::MessageInProgress),
            (Some(s), true) if s.kind != kind => return Err(LocalError::FragmentKindMismatch),
            (Some(_), true) => false,
            (None, _) => true,
        };
        self.flush_pending_pong();
        let opcode = match (first, kind) {
            (false, _) => Opcode::Continuation,
            (true, MessageKind::Text) => Opcode::Text,
            (true, MessageKind::Binary) => Opcode::Binary,
        };
        let mut encoded = None;
        for ext in &mut self.extensions {
            self.encode_buf.clear();
            if let Some(rsv) = ext.encode(kind, payload, first, fin, &mut self.encode_buf)? {
                encoded = Some(rsv);
                break;
            }
        }
        match encoded {
            Some(rsv) => {
                let body = std::mem::take(&mut self.encode_buf);
                self.write_frame(opcode, rsv, fin, &body);
                self.encode_buf = body;
            }
            None => self.write_frame(opcode, Rsv::NONE, fin, payload),
        }
        self.sending = (!fin).then_some(SendingFragments { kind });
        Ok(())
    }

    /// Server only: sends a whole binary or text message whose payload is
    /// queued by reference for a vectored write, when nothing transforms it.
    pub(crate) fn send_shared(
        &mut self,
        kind: MessageKind,
        payload: Bytes,
    ) -> Result<(), LocalError> {
        const COPY_BELOW: usize = 4096;
        if R::IS_CLIENT || payload.len() < COPY_BELOW || !self.extensions.is_empty() {
            return self.send_data(kind, &payload, true, false);
        }
        self.check_can_send(payload.len())?;
        if self.sending.is_some() {
            return Err(LocalError::MessageInProgress);
        }
        self.flush_pending_pong();
        let opcode = match kind {
            MessageKind::Text => Opcode::Text,
            MessageKind::Binary => Opcode::Binary,
        };
        let header = FrameHeader {
            fin: true,
            rsv: Rsv::NONE,
            opcode,
            mask: None,
            payload_len: payload.len() as u64,
        };
        let (raw, len) = header.encode();
        self.out.stage_header(&raw[..len]);
        self.out.push_shared(payload);
        Ok(())
    }

    pub(crate) fn send_control(
        &mut self,
        opcode: Opcode,
        payload: &[u8],
    ) -> Result<(), LocalError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(LocalError::ControlPayloadTooLarge(payload.len()));
        }
        self.check_can_send(payload.len())?;
        self.flush_pending_pong();
        self.write_frame(opcode, Rsv::NONE, true, payload);
        Ok(())
    }

    /// Queues our close frame, once. Codes that may not be sent (1005, 1006,
    /// 1015, out of range) go out as a close frame without a code.
    pub(crate) fn queue_close(&mut self, frame: &CloseFrame) {
        if self.close_sent {
            return;
        }
        // Nothing may follow the close frame, so an owed pong goes now.
        self.write_pending_pong();
        let mut payload = BytesMut::new();
        if frame.code.is_sendable() {
            frame.write_payload(&mut payload);
        }
        self.write_frame(Opcode::Close, Rsv::NONE, true, &payload);
        self.close_sent = true;
        self.sending = None;
    }

    // ---- outgoing buffer access ------------------------------------------

    pub(crate) fn outgoing(&mut self) -> &mut Outgoing {
        self.flush_pending_pong();
        &mut self.out
    }
}
