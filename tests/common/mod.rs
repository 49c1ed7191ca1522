//! Test harness shared by the integration tests: a client/server [`Pair`]
//! that shuttles bytes between two connections under a [`Chunking`] policy
//! (quinn-proto's `tests/util.rs` idea), plus raw-frame helpers.

// Each test crate uses a different subset of the harness.
#![allow(dead_code)]

use std::fmt;

use bytes::Bytes;
use wsproto::frame::{FrameHeader, Opcode, Rsv};
use wsproto::{
    Client, CloseCode, Closed, Closing, Config, Event, LocalError, MaskKeySource, MessageKind,
    Open, ProtocolError, Role, Server,
};

/// The masking key of hand-built client frames, and the seed of the pair
/// client's keys, so wire bytes are reproducible.
pub const CLIENT_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Upper bound on shuttle rounds; a correct exchange needs a handful.
const MAX_ROUNDS: usize = 64;

// ---- deterministic randomness -------------------------------------------

/// splitmix64: tiny, deterministic, good enough to pick split points.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// A different, predictable key for every frame, so a receiver that kept
/// an old key (or a wrong offset into it) garbles the payload.
#[derive(Debug)]
pub struct CountingKeys(pub u32);

impl MaskKeySource for CountingKeys {
    fn next_key(&mut self) -> [u8; 4] {
        self.0 = self.0.wrapping_mul(0x0101_0101).wrapping_add(0x9E37_79B9);
        self.0.to_be_bytes()
    }
}

// ---- chunking --------------------------------------------------------------

/// How the harness cuts a side's outgoing bytes before the other side
/// receives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// Everything queued, in one `receive`.
    Whole,
    /// One byte per `receive`.
    OneByte,
    /// Random sizes: mostly tiny (to cut headers and characters), sometimes
    /// large, from a seeded generator.
    Random(u64),
}

/// The policies every pair scenario runs under.
pub const CHUNKINGS: [Chunking; 3] = [
    Chunking::Whole,
    Chunking::OneByte,
    Chunking::Random(0x00C0_FFEE),
];

/// Cuts `data` into the pieces `chunking` asks for.
pub fn split<'a>(data: &'a [u8], chunking: Chunking, rng: &mut Rng) -> Vec<&'a [u8]> {
    match chunking {
        Chunking::Whole => vec![data],
        Chunking::OneByte => data.chunks(1).collect(),
        Chunking::Random(_) => {
            let mut pieces = Vec::new();
            let mut rest = data;
            while !rest.is_empty() {
                let max = if rng.range(0, 7) == 0 { 8192 } else { 17 };
                let n = rng.range(1, max).min(rest.len());
                let (piece, tail) = rest.split_at(n);
                pieces.push(piece);
                rest = tail;
            }
            pieces
        }
    }
}

// ---- sides -------------------------------------------------------------------

/// One end of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Client, Side::Server];

    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// A connection of either role in any phase, so scenarios can be written
/// once for both directions.
pub enum Conn {
    ClientOpen(Open<Client>),
    ClientClosing(Closing<Client>),
    ServerOpen(Open<Server>),
    ServerClosing(Closing<Server>),
    Closed(Finished),
    /// Only while a transition is in progress.
    Moved,
}

macro_rules! live {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::ClientOpen($c) => $body,
            Conn::ClientClosing($c) => $body,
            Conn::ServerOpen($c) => $body,
            Conn::ServerClosing($c) => $body,
            Conn::Closed(_) | Conn::Moved => panic!("connection already finished"),
        }
    };
}

macro_rules! open {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::ClientOpen($c) => $body,
            Conn::ServerOpen($c) => $body,
            _ => panic!("connection is not open"),
        }
    };
}

/// What a finished connection reported, for either role.
#[derive(Debug, Clone)]
pub struct Finished {
    received: Option<wsproto::CloseFrame>,
    error: Option<ProtocolError>,
    clean: bool,
}

impl Finished {
    fn of<R: Role>(closed: &Closed<R>) -> Self {
        Self {
            received: closed.close_received().cloned(),
            error: closed.error().cloned(),
            clean: closed.was_clean(),
        }
    }

    pub fn received(&self) -> Option<&wsproto::CloseFrame> {
        self.received.as_ref()
    }

    pub fn was_clean(&self) -> bool {
        self.clean
    }

    pub fn error(&self) -> Option<&ProtocolError> {
        self.error.as_ref()
    }
}

impl Conn {
    pub fn receive(&mut self, data: &[u8]) {
        live!(self, c => c.receive(data)).expect("receive buffer has room")
    }

    pub fn receive_eof(&mut self) {
        live!(self, c => c.receive_eof())
    }

    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        live!(self, c => c.poll_event())
    }

    pub fn take_outgoing(&mut self) -> Bytes {
        match self {
            Conn::Closed(_) => Bytes::new(),
            _ => live!(self, c => c.take_outgoing()),
        }
    }

    pub fn is_closed(&self) -> bool {
        match self {
            Conn::Closed(_) => true,
            _ => live!(self, c => c.is_closed()),
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self, Conn::ClientOpen(_) | Conn::ServerOpen(_))
    }

    pub fn send_text(&mut self, text: &str) -> Result<(), LocalError> {
        open!(self, c => c.send_text(text))
    }

    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), LocalError> {
        open!(self, c => c.send_binary(data))
    }

    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), LocalError> {
        open!(self, c => c.send_fragment(kind, data, fin))
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        open!(self, c => c.send_ping(payload))
    }

    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        open!(self, c => c.send_pong(payload))
    }

    /// `Open::close`: the connection becomes `Closing`.
    pub fn close(&mut self, code: CloseCode, reason: &str) {
        *self = match std::mem::replace(self, Conn::Moved) {
            Conn::ClientOpen(c) => Conn::ClientClosing(c.close(code, reason)),
            Conn::ServerOpen(c) => Conn::ServerClosing(c.close(code, reason)),
            _ => panic!("close() on a connection that is not open"),
        };
    }

    /// `Closing::into_closed`, keeping the result; panics if the close
    /// handshake is not over.
    pub fn finish(&mut self) -> &Finished {
        *self = match std::mem::replace(self, Conn::Moved) {
            Conn::ClientClosing(c) => Conn::Closed(Finished::of(
                &c.into_closed().expect("client not closed yet"),
            )),
            Conn::ServerClosing(c) => Conn::Closed(Finished::of(
                &c.into_closed().expect("server not closed yet"),
            )),
            Conn::Closed(c) => Conn::Closed(c),
            _ => panic!("finish() on a connection that is not closing"),
        };
        match self {
            Conn::Closed(c) => c,
            _ => unreachable!(),
        }
    }

    /// Whether `into_closed` would give the connection back.
    pub fn still_closing(&self) -> bool {
        match self {
            Conn::ClientClosing(c) => !c.is_closed(),
            Conn::ServerClosing(c) => !c.is_closed(),
            _ => false,
        }
    }
}

// ---- the pair ------------------------------------------------------------------

/// Everything one side observed.
#[derive(Debug, Default)]
pub struct Observed {
    pub events: Vec<Event>,
    pub errors: Vec<ProtocolError>,
    /// Every byte this side received, in order.
    pub received: Vec<u8>,
}

/// A client and a server wired back to back.
pub struct Pair {
    conns: [Conn; 2],
    observed: [Observed; 2],
    pub chunking: Chunking,
    rng: Rng,
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pair")
            .field("chunking", &self.chunking)
            .field("observed", &self.observed)
            .finish_non_exhaustive()
    }
}

impl Pair {
    pub fn new(chunking: Chunking) -> Self {
        Self::with_configs(chunking, Config::default(), Config::default())
    }

    /// Both sides with the same configuration.
    pub fn with_config(chunking: Chunking, config: Config) -> Self {
        Self::with_configs(chunking, config.clone(), config)
    }

    pub fn with_configs(chunking: Chunking, client: Config, server: Config) -> Self {
        let mut client = Open::<Client>::new(client, Vec::new());
        client.set_mask_source(Box::new(CountingKeys(u32::from_be_bytes(CLIENT_KEY))));
        let server = Open::<Server>::new(server, Vec::new());
        let seed = match chunking {
            Chunking::Random(seed) => seed,
            _ => 1,
        };
        Self {
            conns: [Conn::ClientOpen(client), Conn::ServerOpen(server)],
            observed: [Observed::default(), Observed::default()],
            chunking,
            rng: Rng::new(seed),
        }
    }

    pub fn conn(&mut self, side: Side) -> &mut Conn {
        &mut self.conns[side.index()]
    }

    pub fn observed(&self, side: Side) -> &Observed {
        &self.observed[side.index()]
    }

    pub fn client(&mut self) -> &mut Open<Client> {
        match self.conn(Side::Client) {
            Conn::ClientOpen(c) => c,
            _ => panic!("client is not open"),
        }
    }

    pub fn server(&mut self) -> &mut Open<Server> {
        match self.conn(Side::Server) {
            Conn::ServerOpen(c) => c,
            _ => panic!("server is not open"),
        }
    }

    /// Events `side` has seen since the last call.
    pub fn take_events(&mut self, side: Side) -> Vec<Event> {
        std::mem::take(&mut self.observed[side.index()].events)
    }

    pub fn errors(&self, side: Side) -> &[ProtocolError] {
        &self.observed[side.index()].errors
    }

    /// Feeds `data` to `to` under the pair's chunking, draining events after
    /// every piece.
    pub fn deliver(&mut self, to: Side, data: &[u8]) {
        for piece in split(data, self.chunking, &mut self.rng) {
            self.observed[to.index()].received.extend_from_slice(piece);
            self.conns[to.index()].receive(piece);
            self.drain(to);
        }
    }

    /// Drains `side`'s events. After a protocol error the connection must
    /// stay quiet: `poll_event` returns `Ok(None)` from then on.
    pub fn drain(&mut self, side: Side) {
        let i = side.index();
        if matches!(self.conns[i], Conn::Closed(_)) {
            return;
        }
        // Each event consumes at least one byte or ends the stream, so the
        // bound only trips on a stuck engine.
        for _ in 0..10_000_000 {
            match self.conns[i].poll_event() {
                Ok(Some(event)) => self.observed[i].events.push(event),
                Ok(None) => return,
                Err(err) => {
                    self.observed[i].errors.push(err);
                    assert_eq!(
                        self.conns[i].poll_event(),
                        Ok(None),
                        "{side:?}: events after a protocol error"
                    );
                    return;
                }
            }
        }
        panic!("{side:?}: poll_event never returned Ok(None)");
    }

    /// Moves `from`'s queued bytes to its peer, once. Returns how many.
    pub fn transmit(&mut self, from: Side) -> usize {
        let data = self.conns[from.index()].take_outgoing();
        if !data.is_empty() {
            self.deliver(from.peer(), &data);
        }
        data.len()
    }

    /// Shuttles bytes both ways until neither side has anything to send.
    pub fn drive(&mut self) {
        for _ in 0..MAX_ROUNDS {
            let moved = self.transmit(Side::Client) + self.transmit(Side::Server);
            if moved == 0 {
                return;
            }
        }
        panic!("pair did not go idle in {MAX_ROUNDS} rounds: {self:?}");
    }

    /// Reports EOF to `side` and drains its events.
    pub fn eof(&mut self, side: Side) {
        self.conns[side.index()].receive_eof();
        self.drain(side);
    }
}

/// Runs `scenario` with every chunking and with each side as the sender:
/// `scenario(pair, sender, receiver)`.
pub fn each_setup(mut scenario: impl FnMut(&mut Pair, Side, Side)) {
    each_setup_with(Config::default, |pair, from, to| scenario(pair, from, to));
}

/// As [`each_setup`], with a configuration for both sides.
pub fn each_setup_with(
    config: impl Fn() -> Config,
    mut scenario: impl FnMut(&mut Pair, Side, Side),
) {
    for chunking in CHUNKINGS {
        for from in Side::BOTH {
            // Printed only when the test fails, to say which run it was.
            eprintln!("-- chunking {chunking:?}, sender {from:?}");
            let mut pair = Pair::with_config(chunking, config());
            scenario(&mut pair, from, from.peer());
        }
    }
}

// ---- raw frames --------------------------------------------------------------

/// A frame decoded by the test, payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    pub rsv: Rsv,
    pub opcode: Opcode,
    pub masked: bool,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// A close frame's code (`None` for an empty close) and reason.
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, Opcode::Close, "not a close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Decodes a whole byte stream into frames; panics on anything malformed or
/// left over.
pub fn parse_frames(mut bytes: &[u8]) -> Vec<RawFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (header, len) = FrameHeader::decode(bytes)
            .expect("valid header")
            .expect("complete header");
        let end = len + usize::try_from(header.payload_len).unwrap();
        let mut payload = bytes[len..end].to_vec();
        if let Some(key) = header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        frames.push(RawFrame {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            masked: header.mask.is_some(),
            payload,
        });
        bytes = &bytes[end..];
    }
    frames
}

/// Builds a frame by hand, byte by byte, so tests can also build what the
/// encoder never would (reserved opcodes, non-minimal lengths).
#[derive(Debug, Clone)]
pub struct FrameBuilder {
    pub first_byte: u8,
    pub mask: Option<[u8; 4]>,
    /// Length encoding: `None` for the minimal one, or `Some(7 | 16 | 64)`.
    pub length_form: Option<u8>,
    /// Declared length; defaults to the payload length.
    pub declared_len: Option<u64>,
    pub payload: Vec<u8>,
}

impl FrameBuilder {
    /// A final frame with `opcode` (a raw 4-bit value) and `payload`.
    pub fn new(opcode: u8, payload: &[u8]) -> Self {
        Self {
            first_byte: 0x80 | opcode,
            mask: None,
            length_form: None,
            declared_len: None,
            payload: payload.to_vec(),
        }
    }

    /// A frame as a client sends it (masked with [`CLIENT_KEY`]).
    pub fn masked(mut self) -> Self {
        self.mask = Some(CLIENT_KEY);
        self
    }

    pub fn fin(mut self, fin: bool) -> Self {
        self.first_byte = (self.first_byte & 0x7F) | if fin { 0x80 } else { 0 };
        self
    }

    pub fn rsv(mut self, bits: u8) -> Self {
        self.first_byte |= bits & 0x70;
        self
    }

    pub fn length_form(mut self, form: u8) -> Self {
        self.length_form = Some(form);
        self
    }

    pub fn declared_len(mut self, len: u64) -> Self {
        self.declared_len = Some(len);
        self
    }

    /// The header alone.
    pub fn header(&self) -> Vec<u8> {
        let len = self.declared_len.unwrap_or(self.payload.len() as u64);
        let form = self.length_form.unwrap_or(match len {
            0..=125 => 7,
            126..=65535 => 16,
            _ => 64,
        });
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut out = vec![self.first_byte];
        match form {
            7 => out.push(mask_bit | u8::try_from(len).expect("7-bit length")),
            16 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&u16::try_from(len).expect("16-bit length").to_be_bytes());
            }
            64 => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
            _ => panic!("length form {form}"),
        }
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
        }
        out
    }

    /// Header and (masked) payload.
    pub fn build(&self) -> Vec<u8> {
        let mut out = self.header();
        let key = self.mask;
        out.extend(self.payload.iter().enumerate().map(|(i, b)| match key {
            Some(k) => b ^ k[i % 4],
            None => *b,
        }));
        out
    }
}

/// A close payload: code and reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// Concatenates streamed text chunks, checking each is on its own valid text.
pub fn text_of(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) => text.push_str(t),
            Event::TextChunk { data, .. } => {
                assert!(std::str::from_utf8(data.as_bytes()).is_ok());
                text.push_str(data);
            }
            other => panic!("expected text, got {other:?}"),
        }
    }
    text
}

/// A deterministic payload of `len` bytes.
pub fn binary_payload(len: usize) -> Vec<u8> {
    Rng::new(len as u64).bytes(len)
}

/// A deterministic text of exactly `len` bytes mixing 1- to 4-byte characters.
pub fn text_payload(len: usize) -> String {
    const CHARS: [&str; 6] = ["a", "é", "€", "😀", "z", "ß"];
    let mut rng = Rng::new(len as u64 ^ 0xABCD);
    let mut text = String::with_capacity(len);
    while text.len() < len {
        let c = CHARS[rng.range(0, CHARS.len() - 1)];
        if text.len() + c.len() <= len {
            text.push_str(c);
        } else {
            text.push('a');
        }
    }
    text
}
