//! The harness shared by the peer benches (`peers.rs`) and the UTF-8 audit
//! (`tests/utf8_audit.rs`): the inputs, the in-memory stream, every
//! implementation's configuration, and each implementation's server decode
//! loop, so that the audit drives exactly what the benches measure.
//!
//! Each target includes it with `#[path]` and uses part of it.

use std::cell::RefCell;
use std::hint::black_box;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wsproto::{Config, Event, EventRef, Open, Server};

/// Payload sizes of the single-frame workloads.
pub const SIZES: [usize; 6] = [16, 128, 1 << 10, 64 << 10, 1 << 20, 16 << 20];
/// Largest read the in-memory stream serves, and the piece size fed to us.
pub const MAX_READ: usize = 64 << 10;
/// Limits given to every implementation, so 16 MiB messages pass.
pub const LIMIT: usize = 64 << 20;
pub const CLIENT_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
// ---- inputs -----------------------------------------------------------------

/// Messages per iteration: about 1 MiB of payload, at most 65 536 messages.
pub fn messages_for(size: usize) -> usize {
    ((1 << 20) / size).clamp(1, 1 << 16)
}

/// `size` bytes of valid UTF-8: mostly ASCII, with a 2-byte and a 3-byte
/// character every 48 bytes (chat / JSON-like text).
pub fn text_payload(size: usize) -> Vec<u8> {
    const PATTERN: &str = "{\"user\":\"zoë\",\"msg\":\"price 10€, ok\",\"seq\":12}\n";
    let mut text = String::with_capacity(size + PATTERN.len());
    while text.len() < size {
        text.push_str(PATTERN);
    }
    let mut cut = size;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    while text.len() < size {
        text.push(' ');
    }
    text.into_bytes()
}

pub fn binary_payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 + 7) as u8).collect()
}

/// Encodes one frame the way RFC 6455 §5.2 lays it out, independently of
/// every implementation under test.
pub fn encode_frame(
    out: &mut Vec<u8>,
    opcode: u8,
    fin: bool,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
}

/// `n` masked client frames, each a whole message of `payload`.
pub fn client_frames(opcode: u8, payload: &[u8], n: usize) -> Bytes {
    let mut out = Vec::with_capacity(n * (payload.len() + 14));
    for _ in 0..n {
        encode_frame(&mut out, opcode, true, payload, Some(CLIENT_KEY));
    }
    out.into()
}

/// `n` masked messages, each sent as `fragments` frames.
pub fn fragmented_client_frames(opcode: u8, payload: &[u8], fragments: usize, n: usize) -> Bytes {
    let piece = payload.len().div_ceil(fragments);
    let mut out = Vec::new();
    for _ in 0..n {
        let chunks: Vec<&[u8]> = payload.chunks(piece).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let op = if i == 0 { opcode } else { 0 };
            encode_frame(&mut out, op, i + 1 == chunks.len(), chunk, Some(CLIENT_KEY));
        }
    }
    out.into()
}

// ---- the in-memory transport --------------------------------------------------

struct Wire {
    input: Bytes,
    pos: usize,
    written: usize,
}

/// An in-memory duplex stream: reads serve `input` in pieces of at most
/// [`MAX_READ`], writes are counted and dropped. Clones share the state, so
/// a benchmark can rewind the input under a peer that owns the stream.
#[derive(Clone)]
pub struct MemStream(Rc<RefCell<Wire>>);

impl MemStream {
    pub fn new(input: Bytes) -> Self {
        Self(Rc::new(RefCell::new(Wire {
            input,
            pos: 0,
            written: 0,
        })))
    }

    /// The next read starts at the start of `input`.
    pub fn set_input(&self, input: Bytes) {
        let mut wire = self.0.borrow_mut();
        wire.input = input;
        wire.pos = 0;
        wire.written = 0;
    }

    pub fn rewind(&self) {
        let mut wire = self.0.borrow_mut();
        wire.pos = 0;
        wire.written = 0;
    }

    pub fn written(&self) -> usize {
        self.0.borrow().written
    }

    /// The next piece of input, at most `room` bytes.
    fn next_piece(&self, room: usize) -> Bytes {
        let mut wire = self.0.borrow_mut();
        let start = wire.pos;
        let n = room.min(MAX_READ).min(wire.input.len() - start);
        wire.pos += n;
        wire.input.slice(start..start + n)
    }

    fn count_written(&self, n: usize) -> usize {
        self.0.borrow_mut().written += n;
        n
    }
}

impl io::Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let piece = self.next_piece(buf.len());
        buf[..piece.len()].copy_from_slice(&piece);
        Ok(piece.len())
    }
}

impl io::Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.count_written(buf.len()))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Ok(self.count_written(bufs.iter().map(|b| b.len()).sum()))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for MemStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // `put_slice`, not `initialize_unfilled`: zeroing the whole spare
        // capacity on every read would charge the peers a memset per read.
        let piece = self.next_piece(buf.remaining());
        buf.put_slice(&piece);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.count_written(buf.len())))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.count_written(bufs.iter().map(|b| b.len()).sum())))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    // sockudo-ws reads a calibrated clock (quanta) when a stream is made;
    // the first reading calibrates it, which must not land in a measurement.
    sockudo_ws::init_clock();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

// ---- the implementations -------------------------------------------------------

pub fn wsproto_config() -> Config {
    Config::default()
        .with_max_frame_size(LIMIT as u64)
        .with_max_message_size(LIMIT as u64)
        .with_max_outgoing_buffer(4 * LIMIT)
}

pub fn tungstenite_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(LIMIT))
        .max_frame_size(Some(LIMIT))
}

pub fn tokio_websockets_limits() -> tokio_websockets::Limits {
    tokio_websockets::Limits::default().max_payload_len(Some(LIMIT))
}

pub fn tokio_websockets_config() -> tokio_websockets::Config {
    // One frame per message, as every other implementation sends it.
    tokio_websockets::Config::default().frame_size(LIMIT)
}

/// nexus-web's parser with the limits raised; the read buffer keeps its
/// default size (1 MiB): a frame longer than what is buffered is assembled
/// in the reader's message buffer, so the buffer need not hold a message.
pub fn nexus_reader(role: nexus_web::ws::Role) -> nexus_web::ws::FrameReader {
    nexus_web::ws::FrameReader::builder()
        .role(role)
        .max_frame_size(LIMIT as u64)
        .max_message_size(LIMIT)
        .build()
}

/// sockudo-ws with the limits raised and its timers off (idle timeout and
/// automatic pings): no other implementation here runs a timer, and the
/// in-memory stream is never idle.
pub fn sockudo_config() -> sockudo_ws::Config {
    sockudo_ws::Config::builder()
        .max_payload_length(LIMIT)
        .idle_timeout(0)
        .auto_ping(false)
        .build()
}

// ---- server decode, one loop per implementation --------------------------------

/// Why a decode stopped before its `n` messages: the implementation refused
/// the message at index `at` (an error, the end of the stream, or a control
/// message where a data message was due).
#[derive(Debug)]
pub struct Rejected {
    /// Index, in the input, of the message that was not handed out.
    pub at: usize,
    /// The close code the implementation names, where its error carries one
    /// (ours does).
    pub close_code: Option<u16>,
    /// The implementation's own words.
    pub why: String,
}

impl Rejected {
    fn new(at: usize, why: impl std::fmt::Display) -> Self {
        Self {
            at,
            close_code: None,
            why: why.to_string(),
        }
    }

    fn ours(at: usize, error: &wsproto::ProtocolError) -> Self {
        Self {
            at,
            close_code: Some(error.code.0),
            why: error.to_string(),
        }
    }
}

/// One implementation's server decode, as the decode benches measure it.
pub trait Decode: Sized {
    /// The implementation's name in the benchmark ids.
    const NAME: &'static str;
    /// A server that reads `input` (masked client frames) with the bench's
    /// limits, in pieces of at most [`MAX_READ`].
    fn new(input: Bytes) -> Self;
    /// The next [`decode`](Self::decode) reads `input` from its start: a
    /// benchmark iteration's rewind, with other bytes.
    fn set_input(&mut self, input: Bytes);
    /// Reads `n` messages from the start of the input and hands each
    /// payload, with its index, to `each`; stops at the first message the
    /// implementation refuses.
    fn decode(&mut self, n: usize, each: impl FnMut(usize, &[u8])) -> Result<(), Rejected>;
}

/// Calls [`Visit::visit`] once per implementation, ours first.
pub trait Visit {
    fn visit<D: Decode>(&mut self);
}

/// Every implementation of the decode benches, in the benches' order.
pub fn for_each_decoder(visitor: &mut impl Visit) {
    visitor.visit::<Wsproto>();
    visitor.visit::<WsprotoRef>();
    visitor.visit::<Tungstenite>();
    visitor.visit::<Fastwebsockets>();
    visitor.visit::<TokioWebsockets>();
    visitor.visit::<NexusWeb>();
    visitor.visit::<SockudoWs>();
}

/// Our engine, fed the input in socket-sized pieces through `receive`, with
/// owned events (`poll_event`); each payload is dropped before the next
/// `receive`.
pub struct Wsproto {
    ws: Open<Server>,
    input: Bytes,
}

impl Decode for Wsproto {
    const NAME: &'static str = "wsproto";

    fn new(input: Bytes) -> Self {
        Self {
            ws: Open::<Server>::new(wsproto_config(), Vec::new()),
            input,
        }
    }

    fn set_input(&mut self, input: Bytes) {
        self.input = input;
    }

    fn decode(&mut self, n: usize, mut each: impl FnMut(usize, &[u8])) -> Result<(), Rejected> {
        let mut got = 0;
        for piece in self.input.chunks(MAX_READ) {
            self.ws.receive(piece).map_err(|e| Rejected::new(got, e))?;
            while let Some(event) = self.ws.poll_event().map_err(|e| Rejected::ours(got, &e))? {
                match event {
                    // The payload as the peers hand it over: no further check.
                    Event::Text(text) => each(got, text.as_bytes()),
                    Event::Binary(data) => each(got, &data),
                    other => return Err(Rejected::new(got, format!("unexpected {other:?}"))),
                }
                got += 1;
            }
        }
        assert_eq!(got, n, "the input holds n messages");
        Ok(())
    }
}

/// As [`Wsproto`], with borrowed events (`poll_event_ref`): a single-frame
/// message's payload is a slice of the receive buffer, no reference count.
pub struct WsprotoRef {
    ws: Open<Server>,
    input: Bytes,
}

impl Decode for WsprotoRef {
    const NAME: &'static str = "wsproto-ref";

    fn new(input: Bytes) -> Self {
        Self {
            ws: Open::<Server>::new(wsproto_config(), Vec::new()),
            input,
        }
    }

    fn set_input(&mut self, input: Bytes) {
        self.input = input;
    }

    fn decode(&mut self, n: usize, mut each: impl FnMut(usize, &[u8])) -> Result<(), Rejected> {
        let mut got = 0;
        for piece in self.input.chunks(MAX_READ) {
            self.ws.receive(piece).map_err(|e| Rejected::new(got, e))?;
            while let Some(event) = self
                .ws
                .poll_event_ref()
                .map_err(|e| Rejected::ours(got, &e))?
            {
                match event {
                    EventRef::Text(text) => each(got, text.as_bytes()),
                    EventRef::Binary(data) => each(got, data),
                    // Fragmented messages are assembled, so they come owned.
                    EventRef::Owned(Event::Text(text)) => each(got, text.as_bytes()),
                    EventRef::Owned(Event::Binary(data)) => each(got, &data),
                    other => return Err(Rejected::new(got, format!("unexpected {other:?}"))),
                }
                got += 1;
            }
        }
        assert_eq!(got, n, "the input holds n messages");
        Ok(())
    }
}

/// tungstenite's blocking `read()` over the stream.
pub struct Tungstenite {
    ws: tungstenite::WebSocket<MemStream>,
    stream: MemStream,
}

impl Decode for Tungstenite {
    const NAME: &'static str = "tungstenite";

    fn new(input: Bytes) -> Self {
        let stream = MemStream::new(input);
        let ws = tungstenite::WebSocket::from_raw_socket(
            stream.clone(),
            tungstenite::protocol::Role::Server,
            Some(tungstenite_config()),
        );
        Self { ws, stream }
    }

    fn set_input(&mut self, input: Bytes) {
        self.stream.set_input(input);
    }

    fn decode(&mut self, n: usize, mut each: impl FnMut(usize, &[u8])) -> Result<(), Rejected> {
        self.stream.rewind();
        for i in 0..n {
            match self.ws.read() {
                Ok(tungstenite::Message::Text(text)) => each(i, text.as_bytes()),
                Ok(tungstenite::Message::Binary(data)) => each(i, &data),
                Ok(_) => return Err(Rejected::new(i, "a control message")),
                Err(e) => return Err(Rejected::new(i, e)),
            }
        }
        Ok(())
    }
}

/// fastwebsockets' `FragmentCollector::read_frame` (the collector assembles
/// fragments and checks text), with the message limit raised.
pub struct Fastwebsockets {
    ws: fastwebsockets::FragmentCollector<MemStream>,
    stream: MemStream,
    rt: tokio::runtime::Runtime,
}

impl Decode for Fastwebsockets {
    const NAME: &'static str = "fastwebsockets";

    fn new(input: Bytes) -> Self {
        let rt = runtime();
        let stream = MemStream::new(input);
        let mut inner = fastwebsockets::WebSocket::after_handshake(
            stream.clone(),
            fastwebsockets::Role::Server,
        );
        inner.set_max_message_size(LIMIT);
        let ws = fastwebsockets::FragmentCollector::new(inner);
        Self { ws, stream, rt }
    }

    fn set_input(&mut self, input: Bytes) {
        self.stream.set_input(input);
    }

    fn decode(&mut self, n: usize, mut each: impl FnMut(usize, &[u8])) -> Result<(), Rejected> {
        self.stream.rewind();
        let ws = &mut self.ws;
        self.rt.block_on(async {
            for i in 0..n {
                match ws.read_frame().await {
                    Ok(frame) => match frame.opcode {
                        fastwebsockets::OpCode::Text | fastwebsockets::OpCode::Binary => {
                            each(i, &frame.payload)
                        }
                        _ => return Err(Rejected::new(i, "a control frame")),
                    },
                    Err(e) => return Err(Rejected::new(i, e)),
                }
            }
            Ok(())
        })
    }
}

/// tokio-websockets' `ServerBuilder::serve` + `next()`, with the payload
/// limit raised.
pub struct TokioWebsockets {
    ws: tokio_websockets::WebSocketStream<MemStream>,
    stream: MemStream,
    rt: tokio::runtime::Runtime,
}

impl Decode for TokioWebsockets {
    const NAME: &'static str = "tokio-websockets";

    fn new(input: Bytes) -> Self {
        let rt = runtime();
        let stream = MemStream::new(input);
        let ws = tokio_websockets::ServerBuilder::new()
            .limits(tokio_websockets_limits())
            .serve(stream.clone());
        Self { ws, stream, rt }
    }

    fn set_input(&mut self, input: Bytes) {
        self.stream.set_input(input);
    }

    fn decode(&mut self, n: usize, mut each: impl FnMut(usize, &[u8])) -> Result<(), Rejected> {
        self.stream.rewind();
        let ws = &mut self.ws;
        self.rt.block_on(async {
            for i in 0..n {
                match ws.next().await {
                    Some(Ok(message)) if message.is_text() || message.is_binary() => {
                        each(i, message.as_payload())
                    }
                    Some(Ok(_)) => return Err(Rejected::new(i, "a control message")),
                    Some(Err(e)) => return Err(Rejected::new(i, e)),
                    None => return Err(Rejected::new(i, "the end of the stream")),
                }
            }
            Ok(())
        })
    }
}

/// nexus-web's blocking `Client` over `Read`: `recv` parses what is
/// buffered and reads into the parser's own buffer when it needs more; the
/// message borrows that buffer until the next call. `from_parts` is its
/// constructor for a stream that did its handshake elsewhere.
pub struct NexusWeb {
    ws: nexus_web::ws::Client<MemStream>,
    stream: MemStream,
}

impl Decode for NexusWeb {
    const NAME: &'static str = "nexus-web";

    fn new(input: Bytes) -> Self {
        let stream = MemStream::new(input);
        let ws = nexus_web::ws::Client::from_parts(
            stream.clone(),
            nexus_reader(nexus_web::ws::Role::Server),
            nexus_web::ws::FrameWriter::new(nexus_web::ws::Role::Server),
        );
        Self { ws, stream }
    }

    fn set_input(&mut self, input: Bytes) {
        self.stream.set_input(input);
    }

    fn decode(&mut self, n: usize, mut each: impl FnMut(usize, &[u8])) -> Result<(), Rejected> {
        self.stream.rewind();
        for i in 0..n {
            match self.ws.recv() {
                Ok(Some(nexus_web::ws::Message::Text(text))) => each(i, text.as_bytes()),
                Ok(Some(nexus_web::ws::Message::Binary(data))) => each(i, data),
                Ok(Some(_)) => return Err(Rejected::new(i, "a control message")),
                Ok(None) => return Err(Rejected::new(i, "no message")),
                Err(e) => return Err(Rejected::new(i, e)),
            }
        }
        Ok(())
    }
}

/// sockudo-ws's `WebSocketStream::server` + `next()`, with the limit raised
/// and its timers off.
pub struct SockudoWs {
    ws: sockudo_ws::WebSocketStream<MemStream>,
    stream: MemStream,
    rt: tokio::runtime::Runtime,
}

impl Decode for SockudoWs {
    const NAME: &'static str = "sockudo-ws";

    fn new(input: Bytes) -> Self {
        let rt = runtime();
        let stream = MemStream::new(input);
        let ws = sockudo_ws::WebSocketStream::server(stream.clone(), sockudo_config());
        Self { ws, stream, rt }
    }

    fn set_input(&mut self, input: Bytes) {
        self.stream.set_input(input);
    }

    fn decode(&mut self, n: usize, mut each: impl FnMut(usize, &[u8])) -> Result<(), Rejected> {
        self.stream.rewind();
        let ws = &mut self.ws;
        self.rt.block_on(async {
            for i in 0..n {
                match ws.next().await {
                    Some(Ok(
                        sockudo_ws::Message::Text(data) | sockudo_ws::Message::Binary(data),
                    )) => each(i, &data),
                    Some(Ok(_)) => return Err(Rejected::new(i, "a control message")),
                    Some(Err(e)) => return Err(Rejected::new(i, e)),
                    None => return Err(Rejected::new(i, "the end of the stream")),
                }
            }
            Ok(())
        })
    }
}

/// Keeps the payload alive to the optimiser: what the benches pass as `each`.
pub fn consume(_: usize, payload: &[u8]) {
    black_box(payload);
}
