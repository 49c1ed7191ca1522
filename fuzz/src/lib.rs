//! The fuzz harnesses: one function per fuzz target, each asserting the
//! properties a hostile peer must not break. The libFuzzer binaries in
//! `fuzz_targets/` are one line each; the main crate's
//! `tests/fuzz_regressions.rs` includes this file as a module and replays
//! the committed corpus and every crash input through the same functions,
//! so a crash found once stays a `cargo test` failure until fixed.
//!
//! The toy [`RunLength`] extension exercises the engine's extension hooks
//! in every target; the `*_deflate` and `inflate` targets do the same with
//! permessage-deflate.
//!
//! Byte-oriented targets read their first byte as a control byte (chunking
//! and switches, see [`Control`]) and the rest as the input stream, so seeds
//! are plain protocol bytes behind one prefix byte.

use std::collections::VecDeque;

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use wsproto::extensions::{
    Decoded, DeflateConfig, Extension, ExtensionOffer, PerMessageDeflate, negotiate,
};
use wsproto::frame::{Opcode, Rsv};
use wsproto::handshake::{Accept, ClientHandshake, ServerHandshake, accept_key};
use wsproto::{
    Client, CloseCode, Closing, Config, Event, LocalError, MaskKeySource, MessageKind, MessageMode,
    Open, Pending, ProtocolError, Role, Server,
};

// ---- chunking and switches ------------------------------------------------

/// The first byte of a byte-oriented input.
///
/// Bit 7 selects [`MessageMode::Streaming`] (or, with bit 5 set and bit 6
/// clear, [`MessageMode::Frames`]), bit 6 adds the toy
/// [`RunLength`] extension (so the engine's extension path is fuzzed before
/// permessage-deflate lands), and bits 0–5 pick the chunking: 0 feeds
/// everything at once, 1 one byte at a time, `n` pseudo-random pieces of
/// 1 to `n²` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Control(pub u8);

impl Control {
    /// The message mode this input selects.
    pub fn mode(self) -> MessageMode {
        // Frame mode transforms nothing, so it is fuzzed without the
        // extension, whose messages would come out still coded.
        match (self.0 & 0x80 != 0, self.0 & 0x60 == 0x20) {
            (false, _) => MessageMode::Whole,
            (true, false) => MessageMode::Streaming,
            (true, true) => MessageMode::Frames,
        }
    }

    /// Whether the input asks for the toy extension.
    pub fn extension(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// Splits `data` as the chunking bits say.
    pub fn chunks(self, data: &[u8]) -> Vec<&[u8]> {
        chunk(data, self.0 & 0x3F)
    }
}

/// Splits `data` into pieces: whole for 0, single bytes for 1, otherwise
/// pseudo-random sizes in `1..=param²` from a generator seeded by `param`
/// and the length, so a given input always splits the same way.
pub fn chunk(data: &[u8], param: u8) -> Vec<&[u8]> {
    let max = usize::from(param) * usize::from(param);
    if max == 0 {
        return vec![data];
    }
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (data.len() as u64) ^ (u64::from(param) << 32);
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        // xorshift64*: cheap, and good enough to vary the split points.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let draw = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
        let size = 1 + (draw as usize % max);
        let (piece, after) = rest.split_at(size.min(rest.len()));
        out.push(piece);
        rest = after;
    }
    out
}

/// Limits small enough for the fuzzer to reach every one of them.
pub fn small_config(mode: MessageMode) -> Config {
    let mut config = Config::default()
        .with_max_frame_size(2048)
        .with_max_message_size(4096)
        .with_max_outgoing_buffer(1024)
        .with_message_mode(mode);
    config.max_handshake_size = 2048;
    config.max_headers = 16;
    config
}

// ---- a toy extension -------------------------------------------------------

/// A toy extension for fuzzing the engine's extension hooks: run-length
/// coding on RSV1. A coded frame payload is `(count, byte)` pairs. Every
/// message it sends is coded, so a pair of endpoints that negotiated it
/// exercises both the encode and the decode path.
#[derive(Debug, Default)]
pub struct RunLength {
    /// Whether the fragmented message being sent is coded.
    coding: bool,
    /// The first byte of a pair split between two pieces of input.
    carry: Option<u8>,
}

impl RunLength {
    /// The registered-looking name.
    pub const NAME: &'static str = "x-run-length";

    /// A boxed instance, for extension lists.
    pub fn boxed() -> Box<dyn Extension> {
        Box::new(Self::default())
    }
}

impl Extension for RunLength {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn rsv(&self) -> Rsv {
        Rsv::RSV1
    }

    fn offer(&self) -> Option<ExtensionOffer> {
        Some(ExtensionOffer::new(Self::NAME))
    }

    fn finalize(&mut self, response: &ExtensionOffer) -> Result<(), wsproto::HandshakeError> {
        if response.params.is_empty() {
            Ok(())
        } else {
            Err(wsproto::HandshakeError::new(
                http::StatusCode::BAD_REQUEST,
                "x-run-length takes no parameters",
            ))
        }
    }

    fn accept(&mut self, offer: &ExtensionOffer) -> Option<ExtensionOffer> {
        offer
            .params
            .is_empty()
            .then(|| ExtensionOffer::new(Self::NAME))
    }

    fn decode_start(&mut self, rsv: Rsv) -> Result<bool, ProtocolError> {
        Ok(rsv.contains(Rsv::RSV1))
    }

    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        budget: u64,
        max_out: usize,
        out: &mut BytesMut,
    ) -> Result<Decoded, ProtocolError> {
        // The trait's contract: at most `budget + 1` bytes, so going over
        // the budget is seen without decoding further; at most `max_out`
        // per call; input ends anywhere, so a split pair waits in `carry`.
        let mut room = budget.saturating_add(1);
        let mut written = 0usize;
        let mut consumed = 0;
        while consumed < input.len() && room > 0 {
            let Some(count) = self.carry.take() else {
                self.carry = Some(input[consumed]);
                consumed += 1;
                continue;
            };
            let take = u64::from(count).min(room) as usize;
            if written > 0 && written + take > max_out {
                self.carry = Some(count);
                return Ok(Decoded {
                    consumed,
                    done: false,
                });
            }
            out.extend(std::iter::repeat_n(input[consumed], take));
            consumed += 1;
            written += take;
            room -= take as u64;
        }
        if fin && self.carry.take().is_some() && room > 0 {
            return Err(ProtocolError::new(
                CloseCode::PROTOCOL_ERROR,
                "run-length payload of odd length",
            ));
        }
        Ok(Decoded {
            consumed: input.len(),
            done: true,
        })
    }

    fn max_encoded_len(&self, payload_len: usize) -> usize {
        // A byte that does not repeat takes two.
        payload_len.saturating_mul(2)
    }

    fn encode(
        &mut self,
        _kind: MessageKind,
        payload: &[u8],
        first: bool,
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Rsv>, LocalError> {
        if first {
            self.coding = true;
        }
        if !self.coding {
            return Ok(None);
        }
        let mut rest = payload;
        while let Some(&byte) = rest.first() {
            let run = rest.iter().take(255).take_while(|&&b| b == byte).count();
            out.extend_from_slice(&[run as u8, byte]);
            rest = &rest[run..];
        }
        if fin {
            self.coding = false;
        }
        Ok(Some(if first { Rsv::RSV1 } else { Rsv::NONE }))
    }
}

/// A connection's extension list.
pub type Extensions = Vec<Box<dyn Extension>>;

/// Negotiates `make()`'s extensions the way a real handshake does: the
/// client's offers go through [`negotiate`] on the server's list, and the
/// client finalizes each accepted one from the response header. Returns the
/// client's and the server's lists.
pub fn negotiated(make: impl Fn() -> Extensions) -> (Extensions, Extensions) {
    let mut client = make();
    let offers: Vec<ExtensionOffer> = client.iter().filter_map(|e| e.offer()).collect();
    let (server, header) = negotiate(&offers, make());
    let responses = header
        .map(|h| ExtensionOffer::parse_header(&h).expect("negotiate writes a valid header"))
        .unwrap_or_default();
    let mut accepted = Vec::new();
    for response in responses {
        let at = client
            .iter()
            .position(|e| e.name() == response.name)
            .expect("the server accepts only what was offered");
        let mut ext = client.remove(at);
        ext.finalize(&response)
            .expect("the client finalizes what the server accepted");
        accepted.push(ext);
    }
    (accepted, server)
}

/// Masking keys that change every frame, including the all-zero key.
#[derive(Debug, Clone)]
pub struct CountingKeys(pub u32);

impl MaskKeySource for CountingKeys {
    fn next_key(&mut self) -> [u8; 4] {
        let key = self.0.to_be_bytes();
        self.0 = self.0.wrapping_mul(0x0101_0101).wrapping_add(0x3779_B97F);
        key
    }
}

// ---- the wire tap ----------------------------------------------------------

/// A frame as an independent, minimal decoder sees it on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireFrame {
    /// FIN bit.
    pub fin: bool,
    /// The reserved bits as in the first byte (0x70 mask).
    pub rsv: u8,
    /// The 4-bit opcode.
    pub opcode: u8,
    /// Whether a masking key was present.
    pub masked: bool,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

impl WireFrame {
    /// The close code of a close frame: 1005 for an empty payload.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 0x8).then(|| match self.payload.as_slice() {
            [] => 1005,
            [hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
            [_] => 0,
        })
    }
}

/// Parses the complete frames at the start of `bytes` (what an endpoint
/// wrote), independently of the crate's decoder. Returns the frames and the
/// number of bytes of a trailing incomplete frame. Panics on a shape that
/// RFC 6455 §5.2 forbids a sender to write.
pub fn parse_frames(mut bytes: &[u8]) -> (Vec<WireFrame>, usize) {
    let mut frames = Vec::new();
    loop {
        let [b0, b1, ref rest @ ..] = *bytes else {
            return (frames, bytes.len());
        };
        let masked = b1 & 0x80 != 0;
        let (len, rest) = match b1 & 0x7F {
            126 => {
                let Some((raw, rest)) = rest.split_first_chunk::<2>() else {
                    return (frames, bytes.len());
                };
                let len = u16::from_be_bytes(*raw);
                assert!(len >= 126, "non-minimal 16-bit length written");
                (u64::from(len), rest)
            }
            127 => {
                let Some((raw, rest)) = rest.split_first_chunk::<8>() else {
                    return (frames, bytes.len());
                };
                let len = u64::from_be_bytes(*raw);
                assert!(len >> 63 == 0, "64-bit length with the MSB set written");
                assert!(len > 0xFFFF, "non-minimal 64-bit length written");
                (len, rest)
            }
            short => (u64::from(short), rest),
        };
        let (key, rest) = if masked {
            let Some((key, rest)) = rest.split_first_chunk::<4>() else {
                return (frames, bytes.len());
            };
            (Some(*key), rest)
        } else {
            (None, rest)
        };
        let Some(len) = usize::try_from(len).ok().filter(|&l| l <= rest.len()) else {
            return (frames, bytes.len());
        };
        let mut payload = rest[..len].to_vec();
        if let Some(key) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        frames.push(WireFrame {
            fin: b0 & 0x80 != 0,
            rsv: b0 & 0x70,
            opcode: b0 & 0x0F,
            masked,
            payload,
        });
        bytes = &rest[len..];
    }
}

/// Checks everything an endpoint wrote: every frame is one RFC 6455 lets
/// it send, fragments are well nested, at most one close frame is sent and
/// nothing follows it, and every close code on the wire is sendable.
/// `rsv1` says whether an extension may set RSV1 on a message's first
/// frame. Returns the frames.
pub fn check_sent(bytes: &[u8], from_client: bool, rsv1: bool) -> Vec<WireFrame> {
    let (frames, _) = parse_frames(bytes);
    let mut in_message = false;
    let mut closed = false;
    for frame in &frames {
        assert!(!closed, "a frame was sent after the close frame: {frame:?}");
        // §5.1: clients mask every frame, servers none.
        assert_eq!(frame.masked, from_client, "masking: {frame:?}");
        match frame.opcode {
            0x0..=0x2 => {
                let first = frame.opcode != 0x0;
                assert_eq!(first, !in_message, "bad fragment sequence: {frame:?}");
                let allowed = if first && rsv1 { 0x40 } else { 0 };
                assert_eq!(frame.rsv & !allowed, 0, "reserved bits: {frame:?}");
                in_message = !frame.fin;
            }
            0x8..=0xA => {
                assert!(
                    frame.fin && frame.rsv == 0,
                    "control frame shape: {frame:?}"
                );
                assert!(frame.payload.len() <= 125, "control payload: {frame:?}");
                if frame.opcode == 0x8 {
                    closed = true;
                    check_close_payload(&frame.payload);
                }
            }
            other => panic!("reserved opcode {other} sent"),
        }
    }
    frames
}

/// A close payload is empty, or a sendable code and a UTF-8 reason of at
/// most 123 bytes (RFC 6455 §5.5.1, §7.4).
fn check_close_payload(payload: &[u8]) {
    if payload.is_empty() {
        return;
    }
    assert!(payload.len() >= 2, "1-byte close payload sent");
    let code = u16::from_be_bytes([payload[0], payload[1]]);
    assert!(
        CloseCode(code).is_sendable(),
        "close code {code} put on the wire"
    );
    assert!(
        std::str::from_utf8(&payload[2..]).is_ok(),
        "close reason is not UTF-8"
    );
}

// ---- receiving -------------------------------------------------------------

/// What an endpoint received, reassembled into whole messages whatever
/// the message mode, with the invariants of the event stream checked as
/// events arrive.
#[derive(Debug, Default)]
pub struct Inbox {
    /// Completed messages, in order.
    pub messages: Vec<(MessageKind, Vec<u8>)>,
    /// Streaming mode: the message being received.
    partial: Option<(MessageKind, Vec<u8>)>,
    /// Frame mode: the message being relayed had reserved bits on its first
    /// frame (an extension's coding), so it passes untouched and unchecked
    /// (see `wsproto::relay`): its text is not UTF-8.
    coded: bool,
    /// Ping and pong payloads, in order.
    pub pings: Vec<Vec<u8>>,
    /// Pong payloads, in order.
    pub pongs: Vec<Vec<u8>>,
    /// The close event, once it came.
    pub close: Option<CloseCode>,
    /// The protocol error, once it came.
    pub error: Option<ProtocolError>,
    /// How many events came.
    pub events: usize,
}

impl Inbox {
    /// Records one event, checking it against the mode and the limits.
    pub fn push(&mut self, event: Event, config: &Config) {
        assert!(self.close.is_none(), "event after the close: {event:?}");
        assert!(self.error.is_none(), "event after an error: {event:?}");
        self.events += 1;
        let whole = config.message_mode == MessageMode::Whole;
        let limit = usize::try_from(config.max_message_size).unwrap_or(usize::MAX);
        match event {
            Event::Text(text) => {
                assert!(whole, "whole message in streaming mode");
                assert!(std::str::from_utf8(text.as_bytes()).is_ok());
                assert!(text.len() <= limit, "message over max_message_size");
                self.messages
                    .push((MessageKind::Text, text.as_bytes().to_vec()));
            }
            Event::Binary(data) => {
                assert!(whole, "whole message in streaming mode");
                assert!(data.len() <= limit, "message over max_message_size");
                self.messages.push((MessageKind::Binary, data.to_vec()));
            }
            Event::TextChunk {
                data,
                frame_finished,
                message_finished,
            } => {
                // Every piece ends on a character boundary.
                assert!(std::str::from_utf8(data.as_bytes()).is_ok());
                self.piece(
                    MessageKind::Text,
                    data.as_bytes(),
                    frame_finished,
                    message_finished,
                    whole,
                    limit,
                );
            }
            Event::BinaryChunk {
                data,
                frame_finished,
                message_finished,
            } => self.piece(
                MessageKind::Binary,
                &data,
                frame_finished,
                message_finished,
                whole,
                limit,
            ),
            Event::Frame(frame) => {
                assert_eq!(config.message_mode, MessageMode::Frames);
                if frame.is_frame_start() && frame.opcode() != Opcode::Continuation {
                    self.coded = !frame.rsv().is_empty();
                }
                let kind = if self.coded {
                    MessageKind::Binary
                } else {
                    frame.kind()
                };
                self.piece(
                    kind,
                    frame.data(),
                    frame.is_frame_end(),
                    frame.is_message_end(),
                    whole,
                    limit,
                );
            }
            Event::Ping(data) => {
                assert!(data.len() <= 125);
                self.pings.push(data.to_vec());
            }
            Event::Pong(data) => {
                assert!(data.len() <= 125);
                self.pongs.push(data.to_vec());
            }
            Event::Close(frame) => {
                let code = frame.code;
                assert!(
                    code.is_sendable()
                        || code == CloseCode::NO_STATUS_RCVD
                        || code == CloseCode::ABNORMAL_CLOSURE,
                    "close event with code {code}"
                );
                assert!(frame.reason.len() <= 123);
                self.close = Some(code);
            }
            other => panic!("unknown event {other:?}"),
        }
    }

    fn piece(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        frame_finished: bool,
        message_finished: bool,
        whole: bool,
        limit: usize,
    ) {
        assert!(!whole, "piece in whole-message mode");
        assert!(frame_finished || !message_finished);
        let (partial_kind, bytes) = self.partial.get_or_insert_with(|| (kind, Vec::new()));
        assert_eq!(*partial_kind, kind, "piece kind changed mid-message");
        bytes.extend_from_slice(data);
        assert!(bytes.len() <= limit, "message over max_message_size");
        if message_finished {
            let (kind, bytes) = self.partial.take().unwrap_or((kind, Vec::new()));
            if kind == MessageKind::Text {
                assert!(std::str::from_utf8(&bytes).is_ok());
            }
            self.messages.push((kind, bytes));
        }
    }
}

/// Runs `$body` with `$c` bound to the connection inside a [`Side`].
macro_rules! with_conn {
    ($side:expr, $c:ident => $body:expr) => {
        match $side {
            Side::Open($c) => $body,
            Side::Closing($c) => $body,
        }
    };
}

/// An endpoint in either phase after the handshake.
#[derive(Debug)]
pub enum Side<R: Role> {
    /// Still open.
    Open(Open<R>),
    /// Our close frame is sent.
    Closing(Closing<R>),
}

impl<R: Role> Side<R> {
    /// Decodes every buffered event into `inbox`; stops at an error.
    pub fn drain(&mut self, inbox: &mut Inbox) {
        if inbox.error.is_some() {
            return;
        }
        with_conn!(self, c => {
            let config = c.config().clone();
            loop {
                match c.poll_event() {
                    Ok(Some(event)) => inbox.push(event, &config),
                    Ok(None) => break,
                    Err(err) => {
                        assert!(err.code.is_sendable(), "error code {} is not sendable", err.code);
                        assert_eq!(c.error(), Some(&err));
                        assert!(c.is_closed(), "failed but not closed");
                        inbox.error = Some(err);
                        break;
                    }
                }
            }
            // Once failed or closed, nothing more comes out.
            if inbox.error.is_some() || inbox.close.is_some() {
                assert_eq!(c.poll_event(), Ok(None));
            }
        });
    }

    /// Feeds received bytes.
    pub fn receive(&mut self, data: &[u8]) {
        with_conn!(self, c => c.receive(data)).unwrap();
    }

    /// Reports the end of the transport.
    pub fn receive_eof(&mut self) {
        with_conn!(self, c => c.receive_eof());
    }

    /// Takes every outgoing byte.
    pub fn take_outgoing(&mut self) -> Vec<u8> {
        with_conn!(self, c => c.take_outgoing().to_vec())
    }

    /// Bytes waiting to be written.
    pub fn outgoing_len(&mut self) -> usize {
        with_conn!(self, c => c.outgoing_len())
    }

    /// Takes at most `max` outgoing bytes through the vectored interface.
    pub fn take_outgoing_vectored(&mut self, max: usize) -> Vec<u8> {
        with_conn!(self, c => {
            let mut out = Vec::new();
            {
                let mut slices = [std::io::IoSlice::new(&[]); 3];
                let n = c.outgoing_slices(&mut slices);
                for slice in &slices[..n] {
                    let take = slice.len().min(max - out.len());
                    out.extend_from_slice(&slice[..take]);
                }
            }
            c.advance_outgoing(out.len());
            out
        })
    }

    /// Takes the next outgoing piece.
    pub fn poll_transmit(&mut self) -> Vec<u8> {
        with_conn!(self, c => c.poll_transmit().map(|b| b.to_vec()).unwrap_or_default())
    }

    /// Whether the connection is finished.
    pub fn is_closed(&self) -> bool {
        with_conn!(self, c => c.is_closed())
    }

    /// The peer's close frame code, once received.
    pub fn close_received(&self) -> Option<CloseCode> {
        with_conn!(self, c => c.close_received().map(|f| f.code))
    }

    /// The open connection, for sending.
    pub fn open(&mut self) -> Option<&mut Open<R>> {
        match self {
            Side::Open(c) => Some(c),
            Side::Closing(_) => None,
        }
    }

    /// Starts or completes the close handshake; a no-op when closing.
    pub fn close(self, code: u16, reason: &str) -> Self {
        match self {
            Side::Open(c) => Side::Closing(c.close(CloseCode(code), reason)),
            closing => closing,
        }
    }
}

// ---- frame decoder targets -------------------------------------------------

/// `frame_decoder_server`: arbitrary bytes from a client.
pub fn frame_decoder_server(data: &[u8]) {
    frame_decoder(data, |config, extensions| {
        Open::<Server>::new(config, extensions)
    });
}

/// `frame_decoder_client`: arbitrary bytes from a server.
pub fn frame_decoder_client(data: &[u8]) {
    frame_decoder(data, |config, extensions| {
        let mut open = Open::<Client>::new(config, extensions);
        open.set_mask_source(Box::new(CountingKeys(1)));
        open
    });
}

/// Feeds arbitrary bytes, in arbitrary pieces, to an open endpoint and
/// drains its events. Nothing may panic; the event stream keeps its
/// invariants ([`Inbox::push`]); what the endpoint writes back is valid
/// ([`check_sent`]); and after a protocol error the outgoing bytes end with
/// a close frame carrying the error's (sendable) code.
pub fn frame_decoder<R: Role>(data: &[u8], new: impl FnOnce(Config, Extensions) -> Open<R>) {
    frame_decoder_with(data, new, RunLength::boxed);
}

/// [`frame_decoder`] with another extension behind the control byte's
/// extension bit (e.g. permessage-deflate).
pub fn frame_decoder_with<R: Role>(
    data: &[u8],
    new: impl FnOnce(Config, Extensions) -> Open<R>,
    extension: impl Fn() -> Box<dyn Extension>,
) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let control = Control(control);
    let config = small_config(control.mode());
    let extensions = if control.extension() {
        // Both roles see the extension's server-side configuration; for
        // decoding that is all that matters.
        let (_, server) = negotiated(|| vec![extension()]);
        server
    } else {
        Vec::new()
    };
    let rsv1 = !extensions.is_empty();
    let mut side = Side::Open(new(config.clone(), extensions));
    let mut inbox = Inbox::default();
    // The caller never drains until the end: the worst case for the
    // outgoing buffer's bound.
    for piece in control.chunks(stream) {
        side.receive(piece);
        side.drain(&mut inbox);
        // Without draining, the outgoing buffer stays bounded: pongs past
        // the limit are coalesced. One close frame may go over.
        let bound = config.max_outgoing_buffer + 2 * (14 + 125);
        assert!(
            side.outgoing_len() <= bound,
            "outgoing buffer over its bound"
        );
        if inbox.error.is_some() {
            break;
        }
    }
    if inbox.error.is_none() {
        side.receive_eof();
        side.drain(&mut inbox);
    }
    // Each event consumes input, bar the single close at the end.
    assert!(inbox.events <= stream.len() + 1, "more events than bytes");
    if inbox.error.is_none() {
        assert_eq!(
            inbox.close.is_some(),
            side.is_closed(),
            "closed without a close event, or the reverse"
        );
    }
    let written = side.take_outgoing();
    let frames = check_sent(&written, R::IS_CLIENT, rsv1);
    assert!(
        frames.iter().all(|f| matches!(f.opcode, 0x8 | 0xA)),
        "only pongs and a close frame are written"
    );
    if let Some(err) = &inbox.error {
        let last = frames.last().expect("a close frame after a protocol error");
        assert_eq!(
            last.close_code(),
            Some(err.code.0),
            "close code after {err}"
        );
        // More input is ignored.
        side.receive(b"\x81\x00");
        let mut after = Inbox::default();
        side.drain(&mut after);
        assert_eq!(after.events, 0);
    }
}

// ---- handshake targets -----------------------------------------------------

/// `handshake_server`: arbitrary request bytes, in arbitrary pieces.
pub fn handshake_server(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let control = Control(control);
    let config = small_config(control.mode());
    let mut pending = Pending::<Server>::new(config.clone(), vec![RunLength::boxed()]);
    let mut fed = 0;
    for piece in control.chunks(stream) {
        fed += piece.len();
        match pending.receive(piece) {
            Ok(ServerHandshake::Pending(next)) => pending = next,
            Ok(ServerHandshake::Request(request)) => return check_request(request),
            Err(err) => {
                let status = err.status.as_u16();
                assert!(matches!(status, 400 | 426 | 431), "status {status}");
                check_response(&err.to_response(), status);
                return;
            }
        }
    }
    // A head that is still incomplete fits the limit: over it, `receive`
    // must have answered 431.
    assert!(
        fed <= config.max_handshake_size,
        "{fed} bytes still pending"
    );
}

fn check_request(request: wsproto::handshake::IncomingRequest) {
    let key = request
        .request()
        .headers()
        .get("sec-websocket-key")
        .expect("a valid request has a key")
        .clone();
    assert!(request.subprotocols().iter().all(|p| !p.is_empty()));
    let accept = match request.subprotocols().first() {
        Some(first) => Accept::new().subprotocol(first.clone()),
        None => Accept::new(),
    };
    let mut open = request
        .accept(accept)
        .expect("accepting an offered subprotocol");
    let head = open.take_outgoing();
    let parsed = check_response(&head, 101);
    let expected = accept_key(key.as_bytes());
    assert_eq!(
        parsed.get("sec-websocket-accept").map(String::as_str),
        Some(expected.as_str())
    );
    // Frames sent right behind the request are already fed.
    let mut inbox = Inbox::default();
    let mut side = Side::Open(open);
    side.drain(&mut inbox);
}

/// Parses an HTTP response head with httparse; checks its status and, if a
/// body length is given, the body. Returns the headers, lower-cased.
fn check_response(bytes: &[u8], status: u16) -> std::collections::HashMap<String, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(head_len)) = response.parse(bytes) else {
        panic!("unparsable response: {:?}", String::from_utf8_lossy(bytes));
    };
    assert_eq!(response.code, Some(status));
    let map: std::collections::HashMap<String, String> = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    if let Some(len) = map.get("content-length") {
        assert_eq!(len.parse::<usize>().ok(), Some(bytes.len() - head_len));
    }
    if status == 426 {
        assert_eq!(
            map.get("sec-websocket-version").map(String::as_str),
            Some("13")
        );
    }
    map
}

/// The marker that [`handshake_client_response`] replaces with the
/// `Sec-WebSocket-Accept` value of the request's (random) key, so inputs
/// can reach the accepting path.
pub const ACCEPT_MARKER: &[u8] = b"@ACCEPT@";

/// `handshake_client_response`: arbitrary response bytes, in arbitrary
/// pieces, to a client that offered two subprotocols and one extension.
pub fn handshake_client_response(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let control = Control(control);
    let config = small_config(control.mode());
    let request = http::Request::get("ws://example.com/chat")
        .header("sec-websocket-protocol", "chat, superchat")
        .body(())
        .expect("a valid request");
    let (mut pending, _) =
        Pending::<Client>::new(request, config.clone(), vec![RunLength::boxed()])
            .expect("a valid request");
    let key = pending
        .request()
        .and_then(|r| r.headers().get("sec-websocket-key"))
        .expect("the request has a key")
        .clone();
    let accept = accept_key(key.as_bytes());
    let stream = replace_all(stream, ACCEPT_MARKER, accept.as_bytes());
    let pieces = control.chunks(&stream);
    let mut fed = 0;
    let mut pieces = pieces.into_iter();
    while let Some(piece) = pieces.next() {
        fed += piece.len();
        match pending.receive(piece) {
            Ok(ClientHandshake::Pending(next)) => pending = next,
            Ok(ClientHandshake::Open(open, response)) => {
                assert_eq!(response.status(), 101);
                let mut side = Side::Open(open);
                let mut inbox = Inbox::default();
                side.drain(&mut inbox);
                for piece in pieces.by_ref() {
                    side.receive(piece);
                    side.drain(&mut inbox);
                }
                return;
            }
            Ok(ClientHandshake::Rejected(mut rejected)) => {
                assert_ne!(rejected.response().status(), 101);
                let declared = rejected
                    .response()
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                let mut body = 0u64;
                let mut finished = false;
                for piece in pieces.by_ref() {
                    // A malformed chunked body is an error; what was
                    // decoded before it can still be polled.
                    let _ = rejected.receive(piece);
                    while let Some(part) = rejected.poll_body() {
                        assert!(!finished, "body after its end");
                        body += part.data.len() as u64;
                        finished = part.body_finished;
                    }
                }
                rejected.receive_eof();
                while let Some(part) = rejected.poll_body() {
                    assert!(!finished, "body after its end");
                    body += part.data.len() as u64;
                    finished = part.body_finished;
                }
                if let Some(declared) = declared {
                    assert!(body <= declared, "body longer than Content-Length");
                }
                return;
            }
            Err(_) => return,
        }
    }
    assert!(
        fed <= config.max_handshake_size,
        "{fed} bytes still pending"
    );
}

// ---- extended CONNECT (RFC 8441, RFC 9220) ----------------------------------

/// Headers from `name: value` lines (those that are no valid header are
/// skipped, as an HTTP/2 or HTTP/3 library would have refused them).
fn header_lines<'a>(lines: impl Iterator<Item = &'a [u8]>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = http::HeaderName::from_bytes(line[..colon].trim_ascii());
        let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    headers
}

/// The extended CONNECT on `http` types, both roles. The first byte picks:
/// bits 0–1 the HTTP version (1.1, 2, 3, 3), bit 2 the method (CONNECT or
/// GET), bits 3–4 the `:protocol` (none, `websocket`, `WebSocket`, or the
/// second line), bit 5 the role (server: a request; client: a response to
/// `PendingConnect`). The rest is lines: the URI (server) or the status
/// (client), then `name: value` headers.
///
/// Server: a request is accepted with 200, no `Sec-WebSocket-Accept`,
/// `Upgrade` or `Connection`, or refused with 400 or 426, whose response
/// names version 13 and has no `Upgrade`. Client: a response is accepted
/// only when 2xx with a subprotocol that was offered; a refusal carries the
/// response's status.
pub fn extended_connect(data: &[u8]) {
    use wsproto::handshake::extended_connect::{self, PendingConnect};
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default().trim_ascii();
    let extensions =
        || -> Vec<Box<dyn Extension>> { vec![RunLength::boxed(), deflate_from(control)] };
    if control & 0x20 != 0 {
        let request = http::Request::get("wss://example.com/chat")
            .header("sec-websocket-protocol", "chat, superchat")
            .body(())
            .expect("a valid request");
        let (pending, request) =
            PendingConnect::new(request, small_config(MessageMode::Whole), extensions())
                .expect("a valid request");
        assert_eq!(request.method(), http::Method::CONNECT);
        assert!(!request.headers().contains_key("sec-websocket-key"));
        let status = std::str::from_utf8(first)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .and_then(|code| http::StatusCode::from_u16(code).ok())
            .unwrap_or(http::StatusCode::OK);
        let mut response = http::Response::new(());
        *response.status_mut() = status;
        *response.headers_mut() = header_lines(lines);
        match pending.finish(&response) {
            Ok(open) => {
                assert!(status.is_success());
                assert!(matches!(
                    open.subprotocol(),
                    None | Some("chat" | "superchat")
                ));
            }
            Err(err) => {
                assert_eq!(err.kind, wsproto::HandshakeErrorKind::BadResponse);
                assert_eq!(err.status, status);
            }
        }
        return;
    }
    let version = match control & 0x03 {
        0 => http::Version::HTTP_11,
        1 => http::Version::HTTP_2,
        _ => http::Version::HTTP_3,
    };
    let method = if control & 0x04 != 0 {
        http::Method::GET
    } else {
        http::Method::CONNECT
    };
    let second = lines.next().unwrap_or_default().trim_ascii();
    let protocol = match (control >> 3) & 0x03 {
        0 => None,
        1 => Some("websocket"),
        2 => Some("WebSocket"),
        _ => std::str::from_utf8(second).ok(),
    };
    let Ok(uri) = http::Uri::try_from(first) else {
        return;
    };
    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.version_mut() = version;
    *request.uri_mut() = uri;
    *request.headers_mut() = header_lines(lines);
    let offered: Vec<String> = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let accept = match offered.first() {
        Some(first) => Accept::new().subprotocol(first.clone()),
        None => Accept::new(),
    };
    let config = small_config(MessageMode::Whole);
    match extended_connect::upgrade(&request, protocol, accept, config, extensions()) {
        Ok((response, open)) => {
            assert_eq!(response.status(), 200);
            for name in ["sec-websocket-accept", "upgrade", "connection"] {
                assert!(!response.headers().contains_key(name), "{name}");
            }
            assert_eq!(open.subprotocol(), offered.first().map(String::as_str));
        }
        Err(wsproto::handshake::UpgradeError::Request(err)) => {
            let status = err.status.as_u16();
            assert!(matches!(status, 400 | 426), "status {status}");
            let response = extended_connect::error_response(&err);
            assert_eq!(response.status(), err.status);
            assert!(!response.headers().contains_key("upgrade"));
            if status == 426 {
                assert_eq!(response.headers()["sec-websocket-version"], "13");
            }
        }
        Err(err) => panic!("a subprotocol the client offered was refused: {err:?}"),
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

// ---- extension targets -----------------------------------------------------

/// `extension_offers`: whatever `parse_header` accepts, `to_header_value`
/// writes back in a form that parses to the same offers.
pub fn extension_offers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(offers) = ExtensionOffer::parse_header(text) else {
        return;
    };
    for offer in &offers {
        let written = offer.to_header_value();
        assert_eq!(
            ExtensionOffer::parse_header(&written).as_deref(),
            Ok(std::slice::from_ref(offer)),
            "{written:?}"
        );
    }
    let joined = offers
        .iter()
        .map(ExtensionOffer::to_header_value)
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(ExtensionOffer::parse_header(&joined), Ok(offers));
}

/// Drives an extension's decoder directly with arbitrary frames: the
/// extension is negotiated with its own offer, then every message it claims
/// is decoded frame by frame under a budget. Checks the trait's contract
/// (at most `limit + 1` bytes per call) and that nothing panics. This is
/// the harness for a decompressing extension (permessage-deflate).
pub fn extension_decode(extension: Box<dyn Extension>, data: &[u8]) {
    let offers: Vec<ExtensionOffer> = extension.offer().into_iter().collect();
    let (mut accepted, _) = negotiate(&offers, vec![extension]);
    let Some(ext) = accepted.first_mut() else {
        return;
    };
    let mut u = Unstructured::new(data);
    let Ok(limit) = u.int_in_range(0..=1u64 << 16) else {
        return;
    };
    let mut out = BytesMut::new();
    while !u.is_empty() {
        let Ok(rsv_bits) = u.int_in_range(0..=7u8) else {
            return;
        };
        match ext.decode_start(Rsv::from_first_byte(rsv_bits << 4)) {
            Ok(true) => {}
            Ok(false) | Err(_) => continue,
        }
        out.clear();
        loop {
            // An exhausted `Unstructured` keeps answering with defaults.
            if u.is_empty() {
                return;
            }
            let (Ok(len), Ok(fin)) = (u.int_in_range(0..=1024usize), u.arbitrary::<bool>()) else {
                return;
            };
            let Ok(payload) = u.bytes(len.min(u.len())) else {
                return;
            };
            let budget = limit.saturating_sub(out.len() as u64);
            let before = out.len();
            if ext
                .decode(payload, fin, budget, usize::MAX, &mut out)
                .is_err()
            {
                // The connection fails; the extension is not used again.
                return;
            }
            let produced = (out.len() - before) as u64;
            assert!(
                produced <= budget + 1,
                "{produced} bytes for a budget of {budget}"
            );
            if produced > budget || fin {
                // Over budget the engine fails with 1009; either way the
                // message ends here.
                break;
            }
        }
    }
}

// ---- permessage-deflate ---------------------------------------------------

/// permessage-deflate with parameters picked by `byte`: both window sizes
/// (8 to 15 bits) and both no-context-takeover switches.
pub fn deflate_from(byte: u8) -> Box<dyn Extension> {
    let config = DeflateConfig::default()
        .with_client_max_window_bits(Some(8 + (byte & 7)))
        .with_server_max_window_bits(Some(8 + ((byte >> 3) & 7)))
        .with_client_no_context_takeover(byte & 0x40 != 0)
        .with_server_no_context_takeover(byte & 0x80 != 0);
    Box::new(PerMessageDeflate::new(config))
}

/// `inflate`: permessage-deflate's decoder on arbitrary compressed frames,
/// through [`extension_decode`]; the first byte picks the parameters.
pub fn inflate(data: &[u8]) {
    if let Some((&byte, rest)) = data.split_first() {
        extension_decode(deflate_from(byte), rest);
    }
}

/// `frame_decoder_server_deflate`: [`frame_decoder_server`] with
/// permessage-deflate behind the control byte's extension bit.
pub fn frame_decoder_server_deflate(data: &[u8]) {
    frame_decoder_with(data, Open::<Server>::new, || {
        Box::new(PerMessageDeflate::new(DeflateConfig::default()))
    });
}

/// `pair_ops_deflate`: [`pair_ops`] with permessage-deflate, its
/// parameters picked by the masking seed's low byte.
pub fn pair_ops_deflate(input: PairInput) {
    let byte = input.mask_seed as u8;
    pair_ops_with(input, || deflate_from(byte));
}

// ---- pair_ops --------------------------------------------------------------

/// One step of [`pair_ops`]. `client` picks the endpoint that acts.
#[derive(Debug, Arbitrary)]
pub enum Op {
    /// `send_text`.
    SendText {
        /// Which endpoint.
        client: bool,
        /// The message.
        text: String,
    },
    /// `send_binary`.
    SendBinary {
        /// Which endpoint.
        client: bool,
        /// The message.
        data: Vec<u8>,
    },
    /// `send_fragment`; text fragments are arbitrary bytes, so the
    /// message may turn out not to be UTF-8.
    SendFragment {
        /// Which endpoint.
        client: bool,
        /// Text or binary.
        text: bool,
        /// The fragment.
        data: Vec<u8>,
        /// Whether it ends the message.
        fin: bool,
    },
    /// The server's zero-copy sends, with the payload repeated to reach
    /// the no-copy size.
    SendShared {
        /// Text or binary.
        text: String,
        /// Binary instead of text.
        binary: bool,
        /// How many times to repeat the payload.
        repeat: u8,
    },
    /// `send_ping` (payloads over 125 bytes are refused).
    Ping {
        /// Which endpoint.
        client: bool,
        /// The payload.
        data: Vec<u8>,
    },
    /// `send_pong`.
    Pong {
        /// Which endpoint.
        client: bool,
        /// The payload.
        data: Vec<u8>,
    },
    /// `close` with any code: codes that may not be sent go out as a close
    /// frame without a code.
    Close {
        /// Which endpoint.
        client: bool,
        /// The code.
        code: u16,
        /// The reason (cut to 123 bytes).
        reason: String,
    },
    /// Moves outgoing bytes to the wire: all of them with `take_outgoing`
    /// (`how` 0), the next piece with `poll_transmit` (1), or at most
    /// `max` through `outgoing_slices` (otherwise).
    Flush {
        /// Which endpoint.
        client: bool,
        /// How to take the bytes.
        how: u8,
        /// At most this many, for the vectored way.
        max: u16,
    },
    /// Delivers at most `max_bytes` (0: all) from the wire to an endpoint
    /// and drains its events.
    Deliver {
        /// Which endpoint receives.
        to_server: bool,
        /// At most this many bytes.
        max_bytes: u16,
    },
    /// The transport towards an endpoint ends; undelivered bytes are lost.
    Eof {
        /// Which endpoint sees the end.
        to_server: bool,
    },
}

/// The input of [`pair_ops`].
#[derive(Debug, Arbitrary)]
pub struct PairInput {
    /// Client message mode: streaming when set.
    pub client_streaming: bool,
    /// Server message mode: streaming when set.
    pub server_streaming: bool,
    /// Negotiate the toy extension on both ends.
    pub extension: bool,
    /// Outgoing buffer limit, in units of 64 bytes (0: unlimited).
    pub outgoing_limit: u8,
    /// Seed of the client's masking keys.
    pub mask_seed: u32,
    /// The steps.
    pub ops: Vec<Op>,
}

/// What one endpoint sent, as the model of what the other must receive.
#[derive(Debug, Default)]
struct Direction {
    /// Completed messages, in order.
    sent: Vec<(MessageKind, Vec<u8>)>,
    /// The fragmented message being sent.
    fragmenting: Option<(MessageKind, Vec<u8>)>,
    /// Index in `sent` at which a text message went out that is not UTF-8:
    /// the receiver must fail with 1007 there.
    poisoned: Option<usize>,
    /// Bytes taken from the sender, not yet delivered.
    wire: VecDeque<u8>,
    /// Every byte the sender wrote.
    history: Vec<u8>,
    /// The transport towards the receiver ended.
    cut: bool,
}

impl Direction {
    fn record(&mut self, kind: MessageKind, data: &[u8], fin: bool) {
        let (k, bytes) = self.fragmenting.get_or_insert_with(|| (kind, Vec::new()));
        debug_assert_eq!(*k, kind);
        bytes.extend_from_slice(data);
        if kind == MessageKind::Text && self.poisoned.is_none() {
            let bad = match std::str::from_utf8(bytes) {
                Ok(_) => false,
                // An unfinished character is fine until the message ends.
                Err(e) => e.error_len().is_some() || fin,
            };
            if bad {
                self.poisoned = Some(self.sent.len());
            }
        }
        if fin && let Some(done) = self.fragmenting.take() {
            self.sent.push(done);
        }
    }

    fn take_from(&mut self, bytes: Vec<u8>) {
        self.history.extend_from_slice(&bytes);
        if !self.cut {
            self.wire.extend(bytes);
        }
    }
}

/// An endpoint of the pair with its model state.
struct Endpoint<R: Role> {
    side: Option<Side<R>>,
    inbox: Inbox,
    /// What this endpoint sends.
    out: Direction,
    limit: usize,
}

impl<R: Role> Endpoint<R> {
    fn side(&mut self) -> &mut Side<R> {
        self.side.as_mut().expect("the side is always put back")
    }

    fn open(&mut self) -> Option<&mut Open<R>> {
        self.side().open()
    }

    fn drain(&mut self) {
        if let Some(side) = self.side.as_mut() {
            side.drain(&mut self.inbox);
        }
    }

    /// Applies a send's result to the model: only what succeeded was sent.
    fn sent(&mut self, result: Result<(), LocalError>, kind: MessageKind, data: &[u8], fin: bool) {
        match result {
            Ok(()) => self.out.record(kind, data, fin),
            Err(LocalError::OutgoingBufferFull { queued, limit }) => {
                // The limit counts the frame's header too, and an
                // extension's output at its largest: run-length doubles a
                // payload at worst, and deflate adds an eighth plus 64 bytes
                // of block overhead, which matters for small payloads.
                assert_eq!(limit, self.limit);
                let largest = 2 * data.len() + 64;
                assert!(queued + largest + wsproto::frame::MAX_HEADER_LEN > limit);
            }
            Err(
                LocalError::Closed
                | LocalError::MessageInProgress
                | LocalError::FragmentKindMismatch,
            ) => {}
            Err(other) => panic!("unexpected send error {other}"),
        }
    }

    fn control(&mut self, result: Result<(), LocalError>, len: usize) {
        match result {
            Ok(()) => assert!(len <= 125),
            Err(LocalError::ControlPayloadTooLarge(n)) => assert!(n == len && len > 125),
            Err(LocalError::Closed | LocalError::OutgoingBufferFull { .. }) => {}
            Err(other) => panic!("unexpected send error {other}"),
        }
    }

    fn flush(&mut self, how: u8, max: u16) {
        let bytes = match how {
            0 => self.side().take_outgoing(),
            1 => self.side().poll_transmit(),
            _ => self.side().take_outgoing_vectored(usize::from(max.max(1))),
        };
        self.out.take_from(bytes);
    }

    fn close(&mut self, code: u16, reason: &str) {
        let side = self.side.take().expect("the side is always put back");
        self.side = Some(side.close(code, reason));
    }
}

/// Moves at most `max` bytes (0: all) of `from`'s wire into `to`, and
/// drains `to`'s events.
fn deliver<A: Role, B: Role>(from: &mut Endpoint<A>, to: &mut Endpoint<B>, max: usize) -> usize {
    if from.out.cut {
        return 0;
    }
    let n = if max == 0 {
        from.out.wire.len()
    } else {
        max.min(from.out.wire.len())
    };
    let bytes: Vec<u8> = from.out.wire.drain(..n).collect();
    to.side().receive(&bytes);
    to.drain();
    n
}

fn cut<A: Role, B: Role>(from: &mut Endpoint<A>, to: &mut Endpoint<B>) {
    if !from.out.cut {
        from.out.cut = true;
        from.out.wire.clear();
        to.side().receive_eof();
        to.drain();
    }
}

/// `pair_ops`: a client and a server driven by arbitrary operations, with
/// their bytes shuttled under arbitrary chunking. Checks that nothing
/// panics, that every message one side completed is what the other
/// received, in order (unless a text message was not UTF-8: then the
/// receiver failed with 1007 there), that every frame on the wire is valid
/// and every close code on it sendable, and that a close handshake that
/// ran to its end leaves both sides closed.
pub fn pair_ops(input: PairInput) {
    pair_ops_with(input, RunLength::boxed);
}

/// [`pair_ops`] with another extension behind `PairInput::extension`.
pub fn pair_ops_with(input: PairInput, extension: impl Fn() -> Box<dyn Extension>) {
    let limit = match input.outgoing_limit {
        0 => 1 << 20,
        n => usize::from(n) * 64,
    };
    let config = |streaming: bool| {
        let mode = if streaming {
            MessageMode::Streaming
        } else {
            MessageMode::Whole
        };
        // Message limits beyond anything an input can send: limits are the
        // frame decoder targets' business; here every message must arrive.
        Config::default()
            .with_max_frame_size(1 << 24)
            .with_max_message_size(1 << 24)
            .with_max_outgoing_buffer(limit)
            .with_message_mode(mode)
    };
    let (client_ext, server_ext) = if input.extension {
        negotiated(|| vec![extension()])
    } else {
        (Vec::new(), Vec::new())
    };
    let rsv1 = input.extension;
    let mut client_open = Open::<Client>::new(config(input.client_streaming), client_ext);
    client_open.set_mask_source(Box::new(CountingKeys(input.mask_seed)));
    let mut client = Endpoint {
        side: Some(Side::Open(client_open)),
        inbox: Inbox::default(),
        out: Direction::default(),
        limit,
    };
    let mut server = Endpoint {
        side: Some(Side::Open(Open::<Server>::new(
            config(input.server_streaming),
            server_ext,
        ))),
        inbox: Inbox::default(),
        out: Direction::default(),
        limit,
    };

    for op in input.ops {
        apply(op, &mut client, &mut server);
        if !rsv1 {
            // The limit is checked against the payload before an extension
            // transforms it, so only without one is this bound exact: one
            // frame header over, plus a pong and the close frame.
            for len in [client.side().outgoing_len(), server.side().outgoing_len()] {
                assert!(
                    len <= limit + 14 + 2 * (14 + 125),
                    "outgoing {len} > {limit}"
                );
            }
        }
    }

    // Run until idle: flush and deliver everything both ways.
    loop {
        client.flush(0, 0);
        server.flush(0, 0);
        let moved = deliver(&mut client, &mut server, 0) + deliver(&mut server, &mut client, 0);
        if moved == 0 && client.out.wire.is_empty() && server.out.wire.is_empty() {
            break;
        }
    }

    check_direction(&client.out, &server, true, rsv1);
    check_direction(&server.out, &client, false, rsv1);

    // A close handshake that ran to its end over intact transports leaves
    // both sides closed.
    let clean = !client.out.cut && !server.out.cut;
    let anyone_closed = client.inbox.close.is_some() || server.inbox.close.is_some();
    if clean && anyone_closed {
        assert!(client.side().is_closed(), "client not closed");
        assert!(server.side().is_closed(), "server not closed");
    }
}

fn apply(op: Op, client: &mut Endpoint<Client>, server: &mut Endpoint<Server>) {
    macro_rules! on {
        ($client:expr, $e:ident => $body:expr) => {
            if $client {
                let $e = &mut *client;
                $body
            } else {
                let $e = &mut *server;
                $body
            }
        };
    }
    match op {
        Op::SendText { client: c, text } => on!(c, e => {
            if let Some(open) = e.open() {
                let r = open.send_text(&text);
                e.sent(r, MessageKind::Text, text.as_bytes(), true);
            }
        }),
        Op::SendBinary { client: c, data } => on!(c, e => {
            if let Some(open) = e.open() {
                let r = open.send_binary(&data);
                e.sent(r, MessageKind::Binary, &data, true);
            }
        }),
        Op::SendFragment {
            client: c,
            text,
            data,
            fin,
        } => on!(c, e => {
            let kind = if text { MessageKind::Text } else { MessageKind::Binary };
            if let Some(open) = e.open() {
                let r = open.send_fragment(kind, &data, fin);
                e.sent(r, kind, &data, fin);
            }
        }),
        Op::SendShared {
            text,
            binary,
            repeat,
        } => {
            let payload = text.repeat(usize::from(repeat));
            if let Some(open) = server.open() {
                let (r, kind) = if binary {
                    let data = bytes::Bytes::from(payload.clone().into_bytes());
                    (open.send_binary_shared(data), MessageKind::Binary)
                } else {
                    let text = wsproto::Utf8Bytes::from(payload.clone());
                    (open.send_text_shared(text), MessageKind::Text)
                };
                server.sent(r, kind, payload.as_bytes(), true);
            }
        }
        Op::Ping { client: c, data } => on!(c, e => {
            if let Some(open) = e.open() {
                let r = open.send_ping(&data);
                e.control(r, data.len());
            }
        }),
        Op::Pong { client: c, data } => on!(c, e => {
            if let Some(open) = e.open() {
                let r = open.send_pong(&data);
                e.control(r, data.len());
            }
        }),
        Op::Close {
            client: c,
            code,
            reason,
        } => on!(c, e => e.close(code, &reason)),
        Op::Flush {
            client: c,
            how,
            max,
        } => on!(c, e => e.flush(how, max)),
        Op::Deliver {
            to_server,
            max_bytes,
        } => {
            let max = usize::from(max_bytes);
            if to_server {
                deliver(client, server, max);
            } else {
                deliver(server, client, max);
            }
        }
        Op::Eof { to_server } => {
            if to_server {
                cut(client, server);
            } else {
                cut(server, client);
            }
        }
    }
}

/// Checks one direction at the end: the wire, and what arrived against
/// what was sent.
fn check_direction<B: Role>(
    sent: &Direction,
    receiver: &Endpoint<B>,
    from_client: bool,
    rsv1: bool,
) {
    let frames = check_sent(&sent.history, from_client, rsv1);
    let inbox = &receiver.inbox;
    let expected = &sent.sent[..sent.poisoned.unwrap_or(sent.sent.len())];
    assert!(
        inbox.messages.len() <= expected.len()
            && inbox.messages[..] == expected[..inbox.messages.len()],
        "received messages are not a prefix of the sent ones:\nsent {:?}\nreceived {:?}",
        sent.sent,
        inbox.messages
    );
    if let Some(err) = &inbox.error {
        // A correct sender can only make the receiver fail with a text
        // message that is not UTF-8.
        assert!(sent.poisoned.is_some(), "receiver failed: {err}");
        assert_eq!(err.code, CloseCode::INVALID_FRAME_PAYLOAD_DATA);
        assert_eq!(inbox.messages.len(), expected.len());
    } else if !sent.cut {
        // Everything was delivered, so everything arrived: the receiver
        // stops reading only at the sender's close, after which the sender
        // sends nothing.
        assert!(sent.poisoned.is_none(), "invalid UTF-8 went unnoticed");
        assert_eq!(inbox.messages.len(), sent.sent.len(), "messages lost");
    }
    // The close the receiver reports is the one on the wire.
    if let Some(code) = inbox.close
        && code != CloseCode::ABNORMAL_CLOSURE
    {
        let on_wire = frames.iter().find_map(WireFrame::close_code);
        assert_eq!(
            on_wire,
            Some(code.0),
            "reported close differs from the wire"
        );
    }
}

/// Decodes a [`PairInput`] the way `fuzz_target!` does, for replaying
/// corpus files; `None` when the bytes don't make one.
pub fn pair_input(data: &[u8]) -> Option<PairInput> {
    PairInput::arbitrary_take_rest(Unstructured::new(data)).ok()
}
