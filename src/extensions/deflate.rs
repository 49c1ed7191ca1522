//! permessage-deflate (RFC 7692): the negotiation of its four parameters
//! and the per-message DEFLATE transform, on zlib-rs's safe streaming API.
//!
//! # Use
//!
//! Give a [`PerMessageDeflate`] to the handshake, on either side; the
//! handshake calls [`offer`](Extension::offer) and
//! [`finalize`](Extension::finalize) on a client, and
//! [`accept`](Extension::accept) on a server. When the handshake happened
//! elsewhere, call them yourself, with the `Sec-WebSocket-Extensions` values
//! parsed by [`ExtensionOffer::parse_header`]:
//!
//! ```
//! use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
//! use wsproto::{Client, Config, Event, Open, Server};
//!
//! let mut client_ext = PerMessageDeflate::new(DeflateConfig::default());
//! let mut server_ext = PerMessageDeflate::new(DeflateConfig::default());
//! let offer = client_ext.offer().expect("a client always offers");
//! assert_eq!(offer.to_header_value(), "permessage-deflate; client_max_window_bits");
//! let response = server_ext.accept(&offer).expect("a valid offer is accepted");
//! assert_eq!(response.to_header_value(), "permessage-deflate");
//! client_ext.finalize(&response)?;
//!
//! let mut client = Open::<Client>::new(Config::default(), vec![Box::new(client_ext)]);
//! let mut server = Open::<Server>::new(Config::default(), vec![Box::new(server_ext)]);
//! let text = "a message long enough to be worth compressing, ".repeat(10);
//! client.send_text(&text)?;
//! let wire = client.take_outgoing();
//! assert!(wire.len() < text.len() / 4);
//! assert_eq!(wire[0] & 0x40, 0x40, "RSV1 marks a compressed message");
//! server.receive(&wire);
//! assert_eq!(server.poll_event()?, Some(Event::Text(text.into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Negotiation (RFC 7692 §7.1)
//!
//! One [`DeflateConfig`] serves both roles; what each field does depends on
//! the role:
//!
//! | field | client: offers | server: responds |
//! |---|---|---|
//! | `server_no_context_takeover` | the parameter: asks the server to reset its compressor after each message, so ours frees its decompressor between messages | the parameter (always also when offered): we reset our compressor after each message |
//! | `client_no_context_takeover` | the parameter (a hint); we reset our compressor after each message whatever the answer | the parameter (always also when offered as a hint): the client resets, we free our decompressor between messages |
//! | `server_max_window_bits` | `server_max_window_bits=N`; the response may not exceed N | `min(N, offered)`, sent when below 15 or offered; our compressor's window |
//! | `client_max_window_bits` | `client_max_window_bits=N`, and our compressor never exceeds N; without a value (the default, what browsers send) it only says we support the parameter | `min(N, offered value)` when the client offered the parameter; if it did not, the RFC forbids the parameter in the response and the offer is accepted without it |
//!
//! A client always offers `client_max_window_bits`, so by default its offer
//! is `permessage-deflate; client_max_window_bits`, like Chrome's and
//! Firefox's. A server accepts every valid offer: whatever window or context
//! rule the client asks for, it can comply.
//!
//! Parsing is strict, as §7 demands of both sides. An unknown parameter, a
//! repeated one, a value on `*_no_context_takeover`, a missing value on
//! `server_max_window_bits`, or a window value that is not one of `8`..=`15`
//! written without leading zeroes makes a server decline that offer
//! ([`accept`](Extension::accept) returns `None`, so the next offer is
//! tried) and a client fail the handshake (a [`HandshakeError`] with status
//! 400). A client also fails when the response's `server_max_window_bits`
//! exceeds the value it offered, or when `client_max_window_bits` comes
//! without a value. A response `client_max_window_bits` larger than the
//! value we offered is allowed: §7.1.2.2 says we then keep to the offered
//! one, and we do.
//!
//! # Compression (RFC 7692 §7.2)
//!
//! Each message is compressed with a sync flush, which ends the DEFLATE
//! data with an empty stored block `00 00 ff ff`; those four bytes are cut
//! from the message and put back by the receiver. Only the first frame of a
//! compressed message has RSV1 set. A fragmented message
//! ([`Open::send_fragment`](crate::Open::send_fragment)) sync-flushes every
//! fragment, so the peer can decompress each fragment as it arrives; only
//! the last fragment's tail is cut. When the last fragment adds no data (an
//! empty final fragment after flushed ones), it carries the single byte
//! `00`, which with the restored tail is an empty stored block (the
//! §7.2.3.6 technique); an empty whole message compresses to that byte too.
//!
//! Whole messages shorter than [`DeflateConfig::compress_threshold`] are
//! sent uncompressed (RSV1 clear). A fragmented message is always
//! compressed: its size is not known at its first fragment, which may be a
//! small head of a large stream. Uncompressed messages are not fed to the
//! compressor, so they don't enter the shared window: §7.1.1.1 lets each
//! compressed message use the window "used to compress the last compressed
//! message".
//!
//! # Window bits 8
//!
//! zlib (and zlib-rs) can't compress with a 256-byte window: it refuses raw
//! DEFLATE with `windowBits` 8 (and with a zlib header silently uses 9,
//! writing 9 in the header, which an inflater limited to 8 rejects). So when
//! our compressor must keep to 8 bits (a client whose server answered
//! `client_max_window_bits=8`, a server asked for `server_max_window_bits=8`,
//! or a config of 8) it compresses with a 9-bit window. That is safe, not a
//! stretch: zlib's match finders, which zlib-rs keeps in every strategy,
//! never reference further back than `MAX_DIST = window - MIN_LOOKAHEAD`,
//! and with a 512-byte window that is 512 - 262 = 250 bytes, inside the 256
//! the peer keeps. Raw DEFLATE has no header to declare the larger window.
//! The tests decode our 8-bit output with a strict decoder that rejects any
//! reference beyond 256 bytes, at levels 0 to 9 (every match finder), with
//! context takeover across messages. The alternatives were
//! worse: declining such offers leaves those peers without compression (and
//! a client can't decline a response), and run-length-only matching (always
//! distance 1, valid for any window) measured 0.92 of the input on small
//! JSON messages against 0.27 with the 9-bit window.
//!
//! Decompression always uses a 15-bit window: a larger window than the
//! peer's is always safe, and zlib-rs keeps a 32 KiB window whatever
//! `windowBits` says anyway. So peers that negotiate 8 and compress with 9
//! are understood too.
//!
//! # Decompression limits
//!
//! The connection passes the remaining message budget
//! ([`Config::max_message_size`](crate::Config::max_message_size) minus
//! what the message has produced so far). Decompression runs in steps into
//! at most that budget plus one byte, so a message that inflates beyond it
//! fails with 1009 after producing at most `budget + 1` bytes, in time
//! proportional to the budget, not to what the data would inflate to: a
//! 1 MiB frame that would inflate to 1 GiB costs at most `max_message_size`
//! of work and memory.
//!
//! # Errors
//!
//! | peer fault | close code |
//! |---|---|
//! | data that is not valid DEFLATE | 1007, as Node's `ws` does (Python's `websockets` uses 1002): the payload is not consistent with the message's (compressed) type |
//! | a message inflating beyond `max_message_size` | 1009 |
//! | RSV1 on a continuation or control frame | 1002, from the connection (claimed bits are only valid on a message's first frame) |
//!
//! After an error the decompressor is dropped, not reset: the connection
//! has failed, and its memory goes back at once. Data after a final
//! (`BFINAL`) block within a message is ignored, as §7.2.3.4's example
//! requires (it ends with such a byte); the next message then starts a new
//! DEFLATE stream. A compressed message with an empty payload decodes as an
//! empty message without touching the decompressor, so it can't leave it in
//! the middle of a block.
//!
//! # Memory
//!
//! Both states are created at the first compressed message in their
//! direction, not at the handshake, so a connection that never compresses
//! costs nothing. Under no context takeover in a direction its state is
//! freed after each message, so an idle connection costs nothing either;
//! with context takeover it is kept for the connection's lifetime (that is
//! what the shared window is). Sizes measured with zlib-rs 0.6.8 (the test
//! `tests/deflate_memory.rs` checks them):
//!
//! | compressor window bits | `memory_level` 1 | 5 (default) | 8 | 9 |
//! |---|---|---|---|---|
//! | 8 (compresses with 9) and 9 | 134 KiB | 147 KiB | 245 KiB | 357 KiB |
//! | 10 | 136 KiB | 149 KiB | 247 KiB | 359 KiB |
//! | 11 | 140 KiB | 153 KiB | 251 KiB | 363 KiB |
//! | 12 | 148 KiB | 161 KiB | 259 KiB | 371 KiB |
//! | 13 | 164 KiB | 177 KiB | 275 KiB | 387 KiB |
//! | 14 | 196 KiB | 209 KiB | 307 KiB | 419 KiB |
//! | 15 | 260 KiB | 273 KiB | 371 KiB | 483 KiB |
//!
//! That is `4 << window_bits` (window and chain) + 128 KiB (zlib-rs's hash
//! table, fixed) + `7 << (memory_level + 6)` (symbol and pending buffers) +
//! about 3 KiB of state. The decompressor is 46.4 KiB whatever the window
//! (32 KiB window + state).
//!
//! Beside the states, one scratch buffer serves both directions: zlib-rs's
//! safe API writes only into initialized memory, so zlib writes into a
//! buffer zeroed once and the bytes are appended to the message from there
//! (zeroing a fresh region of the message for every call cost as much as
//! the inflating). It starts at 1 KiB, grows to the largest piece one call
//! has produced, at most 64 KiB (so a message up to 64 KiB inflates in one
//! call; zlib-rs copies each call's output into its window), and is freed
//! with the last of the two states. A small last piece of a message is
//! copied beside the tail `00 00 ff ff` (at most 516 bytes) so that both
//! go to the decompressor in one call. Stock zlib's formulas are smaller for the
//! compressor (`(1 << (windowBits + 2)) + (1 << (memLevel + 9))`): zlib-rs
//! trades memory for speed with its fixed hash table.
//!
//! Freeing has a price: each message under no context takeover builds its
//! state again, and zlib-rs zeroes its tables on creation (about 256 KiB
//! for a 15-bit compressor). A small message's round trip (compress,
//! frame, inflate) measured about 16 µs that way, against under 1 µs with
//! context takeover, where small messages also compress far better (ratio
//! 0.25 instead of 1.0 on ~130-byte JSON). Resetting instead of freeing
//! would save at most about half: zlib-rs's reset zeroes the 128 KiB hash
//! table too.
//!
//! # Compression level
//!
//! The default level is 1, zlib-rs's "quick" strategy. Measured with
//! zlib-rs 0.6.8 (release build), per message, with context takeover:
//!
//! | data | level 1 | level 6 | level 9 |
//! |---|---|---|---|
//! | small JSON messages (~130 B) | ratio 0.23, ~0.3 µs | 0.21, ~6 µs | 0.19, ~10 µs |
//! | source text in 256 B messages | 0.34, ~0.8 µs | 0.26, ~12 µs | 0.25, ~25 µs |
//! | source text in 64 KiB messages | 0.33, ~390 MB/s | 0.21, ~95 MB/s | 0.21, ~28 MB/s |
//!
//! Levels 2 and up build dynamic Huffman codes for every flushed block,
//! which costs microseconds even for a tiny message; level 1 uses fixed
//! codes and is an order of magnitude faster on the small messages that
//! browser traffic is made of, for 10–60 % more bytes. Raise the level when
//! bandwidth matters more than CPU.

use bytes::{BufMut, BytesMut};
use zlib_rs::{Deflate, DeflateFlush, Inflate, InflateError, InflateFlush, Status};

use crate::error::{HandshakeError, LocalError, ProtocolError};
use crate::event::MessageKind;
use crate::extensions::{Decoded, Extension, ExtensionOffer};
use crate::frame::{CloseCode, Rsv};

/// The registered extension name.
const NAME: &str = "permessage-deflate";

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// The empty stored block a sync flush ends with; cut on send, restored on
/// receive (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The largest LZ77 window, and the one used when nothing smaller is agreed.
const MAX_WINDOW_BITS: u8 = 15;

/// The smallest window RFC 7692 allows.
const MIN_WINDOW_BITS: u8 = 8;

/// Settings of a [`PerMessageDeflate`]: what to negotiate, and how to
/// compress. See the [module docs](self) for what each negotiation field
/// means in each role.
///
/// ```
/// use wsproto::extensions::DeflateConfig;
///
/// // A server that keeps no compression state between messages.
/// let config = DeflateConfig::default()
///     .with_server_no_context_takeover(true)
///     .with_client_no_context_takeover(true);
/// assert_eq!(config.level, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Compression level, 0 (stored, no compression) to 9 (best). Default 1,
    /// the fastest real compression; see the [module docs](self#compression-level).
    pub level: u8,
    /// zlib's `memLevel`, 1 to 9: the size of the compressor's symbol
    /// buffer (`7 << (memory_level + 6)` bytes). Default 5, as Python's
    /// `websockets` uses: 98 KiB less than zlib's 8 per compressing
    /// connection, for a ratio within 1 % on typical data.
    pub memory_level: u8,
    /// Whole messages shorter than this many bytes are sent uncompressed.
    /// Default 32: below that, DEFLATE's block framing leaves little to
    /// save, and the frame header is the same size either way.
    pub compress_threshold: usize,
    /// Client: ask the server to reset its compressor after each message.
    /// Server: reset our compressor after each message, and say so.
    /// Default off.
    pub server_no_context_takeover: bool,
    /// Client: reset our compressor after each message, and hint it.
    /// Server: require the client to reset its compressor after each
    /// message. Default off.
    pub client_no_context_takeover: bool,
    /// Client: ask the server to compress with at most this window (8–15).
    /// Server: compress with at most this window. Default `None` (15).
    pub server_max_window_bits: Option<u8>,
    /// Client: compress with at most this window, and offer the value.
    /// Server: ask a client that supports it to compress with at most this
    /// window. Default `None`: a client offers the parameter without a
    /// value. Our decompressor allocates the same whatever the window.
    pub client_max_window_bits: Option<u8>,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 1,
            memory_level: 5,
            compress_threshold: 32,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        }
    }
}

impl DeflateConfig {
    /// Sets [`DeflateConfig::level`].
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    ///
    /// // Smaller messages for more CPU; see the module docs for the costs.
    /// let deflate = PerMessageDeflate::new(DeflateConfig::default().with_level(6));
    /// assert_eq!(deflate.config().level, 6);
    /// ```
    #[must_use]
    pub fn with_level(mut self, level: u8) -> Self {
        self.level = level;
        self
    }

    /// Sets [`DeflateConfig::memory_level`].
    ///
    /// ```
    /// use wsproto::extensions::DeflateConfig;
    ///
    /// let config = DeflateConfig::default().with_memory_level(8); // zlib's default
    /// assert_eq!(config.memory_level, 8);
    /// ```
    #[must_use]
    pub fn with_memory_level(mut self, memory_level: u8) -> Self {
        self.memory_level = memory_level;
        self
    }

    /// Sets [`DeflateConfig::compress_threshold`].
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
    /// use wsproto::{Config, Open, Server};
    ///
    /// let mut ext = PerMessageDeflate::new(DeflateConfig::default().with_compress_threshold(1024));
    /// let offer = wsproto::extensions::ExtensionOffer::new("permessage-deflate");
    /// ext.accept(&offer).expect("accepted");
    /// let mut ws = Open::<Server>::new(Config::default(), vec![Box::new(ext)]);
    /// ws.send_text(&"short, so sent as it is ".repeat(4))?;
    /// assert_eq!(ws.take_outgoing()[0] & 0x40, 0, "RSV1 clear: not compressed");
    /// # Ok::<(), wsproto::LocalError>(())
    /// ```
    #[must_use]
    pub fn with_compress_threshold(mut self, bytes: usize) -> Self {
        self.compress_threshold = bytes;
        self
    }

    /// Sets [`DeflateConfig::server_no_context_takeover`].
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
    ///
    /// let client = PerMessageDeflate::new(DeflateConfig::default().with_server_no_context_takeover(true));
    /// assert_eq!(
    ///     client.offer().unwrap().to_header_value(),
    ///     "permessage-deflate; server_no_context_takeover; client_max_window_bits"
    /// );
    /// ```
    #[must_use]
    pub fn with_server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::client_no_context_takeover`].
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, Extension, ExtensionOffer, PerMessageDeflate};
    ///
    /// // A server that makes every client reset its compressor per message.
    /// let mut server = PerMessageDeflate::new(DeflateConfig::default().with_client_no_context_takeover(true));
    /// let response = server.accept(&ExtensionOffer::new("permessage-deflate")).unwrap();
    /// assert_eq!(response.to_header_value(), "permessage-deflate; client_no_context_takeover");
    /// assert!(server.negotiated().unwrap().receive_no_context_takeover);
    /// ```
    #[must_use]
    pub fn with_client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::server_max_window_bits`].
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, Extension, ExtensionOffer, PerMessageDeflate};
    ///
    /// // A server that keeps its compressor's window at 1 KiB.
    /// let mut server = PerMessageDeflate::new(DeflateConfig::default().with_server_max_window_bits(Some(10)));
    /// let response = server.accept(&ExtensionOffer::new("permessage-deflate")).unwrap();
    /// assert_eq!(response.to_header_value(), "permessage-deflate; server_max_window_bits=10");
    /// assert_eq!(server.negotiated().unwrap().send_max_window_bits, 10);
    /// ```
    #[must_use]
    pub fn with_server_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.server_max_window_bits = bits;
        self
    }

    /// Sets [`DeflateConfig::client_max_window_bits`].
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
    ///
    /// let client = PerMessageDeflate::new(DeflateConfig::default().with_client_max_window_bits(Some(9)));
    /// assert_eq!(
    ///     client.offer().unwrap().to_header_value(),
    ///     "permessage-deflate; client_max_window_bits=9"
    /// );
    /// ```
    #[must_use]
    pub fn with_client_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.client_max_window_bits = bits;
        self
    }

    /// Panics on values zlib or RFC 7692 can't use; see [`PerMessageDeflate::new`].
    fn validate(&self) {
        assert!(self.level <= 9, "DeflateConfig::level must be 0..=9");
        assert!(
            (1..=9).contains(&self.memory_level),
            "DeflateConfig::memory_level must be 1..=9"
        );
        for bits in [self.server_max_window_bits, self.client_max_window_bits]
            .into_iter()
            .flatten()
        {
            assert!(
                (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits),
                "DeflateConfig window bits must be 8..=15"
            );
        }
    }
}

/// The parameters in force once negotiation is over, seen from this end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// The largest window our compressor uses (8–15).
    pub send_max_window_bits: u8,
    /// Whether our compressor starts every message with an empty window.
    pub send_no_context_takeover: bool,
    /// The largest window the peer said it compresses with (8–15). Our
    /// decompressor uses 15 regardless.
    pub receive_max_window_bits: u8,
    /// Whether the peer starts every message with an empty window, so our
    /// decompressor is freed between messages.
    pub receive_no_context_takeover: bool,
}

/// The per-message state of the inbound compressed message.
#[derive(Debug, Default, Clone, Copy)]
struct Inbound {
    /// Compressed bytes of the message so far.
    compressed_len: u64,
    /// The DEFLATE stream ended (a `BFINAL` block): the rest of the message
    /// is ignored, and the decompressor restarts at the next message.
    stream_ended: bool,
    /// Bytes of [`TAIL`] fed to the decompressor at the message's end.
    tail_fed: usize,
}

/// The permessage-deflate extension (RFC 7692) for one connection, in
/// either role. See the [module docs](self).
pub struct PerMessageDeflate {
    config: DeflateConfig,
    negotiated: Option<Negotiated>,
    /// Created at the first compressed message sent; dropped after each
    /// message under `send_no_context_takeover`.
    deflater: Option<Deflate>,
    /// Created at the first compressed message received; dropped after each
    /// message under `receive_no_context_takeover`, and after an error.
    inflater: Option<Inflate>,
    /// Whether the outbound message in progress is compressed (decided at
    /// its first fragment).
    sending_compressed: bool,
    /// A compression error left our window out of step with the peer's: no
    /// further message may be compressed.
    send_broken: bool,
    inbound: Inbound,
    /// Where zlib writes, in both directions; freed with the last state.
    scratch: Scratch,
}

impl std::fmt::Debug for PerMessageDeflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerMessageDeflate")
            .field("config", &self.config)
            .field("negotiated", &self.negotiated)
            .field("compressor_allocated", &self.deflater.is_some())
            .field("decompressor_allocated", &self.inflater.is_some())
            .field("scratch_len", &self.scratch.out.0.len())
            .finish_non_exhaustive()
    }
}

impl PerMessageDeflate {
    /// A permessage-deflate extension for a client or a server: the role
    /// is set by negotiation ([`offer`](Extension::offer) and
    /// [`finalize`](Extension::finalize) for a client,
    /// [`accept`](Extension::accept) for a server). Until then it neither
    /// compresses nor decompresses. Nothing is allocated until the first
    /// compressed message.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    /// use wsproto::{Client, Config, Pending};
    ///
    /// let deflate = PerMessageDeflate::new(DeflateConfig::default());
    /// let (_pending, request) =
    ///     Pending::<Client>::from_url("ws://example.com/", Config::default(), vec![Box::new(deflate)])?;
    /// let request = String::from_utf8_lossy(&request);
    /// assert!(request.contains("sec-websocket-extensions: permessage-deflate; client_max_window_bits\r\n"));
    /// # Ok::<(), wsproto::HandshakeError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If `level` is over 9, `memory_level` is not 1–9, or a window is
    /// not 8–15.
    pub fn new(config: DeflateConfig) -> Self {
        config.validate();
        Self {
            config,
            negotiated: None,
            deflater: None,
            inflater: None,
            sending_compressed: false,
            send_broken: false,
            inbound: Inbound::default(),
            scratch: Scratch::default(),
        }
    }

    /// Takes the negotiated parameters, with fresh state (a new connection).
    fn start(&mut self, negotiated: Negotiated) {
        *self = Self {
            negotiated: Some(negotiated),
            ..Self::new(self.config.clone())
        };
    }

    /// An extension whose negotiation happened elsewhere (the
    /// [`compat`](crate::compat) facade negotiates with Python wsproto's
    /// rules): it compresses and decompresses with `negotiated` from the
    /// start.
    pub(crate) fn with_negotiated(config: DeflateConfig, negotiated: Negotiated) -> Self {
        let mut ext = Self::new(config);
        ext.start(negotiated);
        ext
    }

    /// The configuration.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    ///
    /// let deflate = PerMessageDeflate::new(DeflateConfig::default());
    /// assert_eq!(deflate.config(), &DeflateConfig::default());
    /// ```
    pub fn config(&self) -> &DeflateConfig {
        &self.config
    }

    /// The negotiated parameters, once [`finalize`](Extension::finalize) or
    /// [`accept`](Extension::accept) succeeded.
    ///
    /// ```
    /// use wsproto::extensions::{DeflateConfig, Extension, ExtensionOffer, PerMessageDeflate};
    ///
    /// let mut client = PerMessageDeflate::new(DeflateConfig::default());
    /// assert!(client.negotiated().is_none());
    /// let response = ExtensionOffer::parse_header("permessage-deflate; server_no_context_takeover")?;
    /// client.finalize(&response[0])?;
    /// let agreed = client.negotiated().unwrap();
    /// assert!(agreed.receive_no_context_takeover); // the server resets per message
    /// assert_eq!(agreed.send_max_window_bits, 15);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn negotiated(&self) -> Option<Negotiated> {
        self.negotiated
    }
}

/// A compressor that keeps to a window of `bits`.
fn new_deflater(config: &DeflateConfig, bits: u8) -> Deflate {
    // zlib refuses raw DEFLATE with 8 bits. With 9 it references at most
    // 512 - MIN_LOOKAHEAD (262) = 250 bytes back, inside an 8-bit window
    // (see the module docs; the tests check it).
    let window_bits = bits.max(MIN_WINDOW_BITS + 1);
    Deflate::new_with_config(zlib_rs::DeflateConfig {
        level: i32::from(config.level),
        // Negative: raw DEFLATE, no zlib header or checksum (§7.2.1).
        window_bits: -i32::from(window_bits),
        mem_level: i32::from(config.memory_level),
        ..zlib_rs::DeflateConfig::default()
    })
}

/// Parsed parameters of one offer or response.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// Present or not, and its value if it has one.
    client_max_window_bits: Option<Option<u8>>,
}

/// A window size as §7.1.2.1 writes it: "a decimal integer value without
/// leading zeroes between 8 to 15, inclusive".
fn parse_window_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + (d - b'0')),
        _ => None,
    }
}

/// Parses the parameters of an offer or a response. §7: the offer is
/// declined (the response fails the connection) if it "contains an
/// extension parameter not defined for use in an offer", "an extension
/// parameter with an invalid value", or "multiple extension parameters with
/// the same name".
fn parse_params(params: &[(String, Option<String>)]) -> Result<Params, &'static str> {
    let mut parsed = Params::default();
    for (name, value) in params {
        let is = |known: &str| name.eq_ignore_ascii_case(known);
        if is(SERVER_NO_CONTEXT_TAKEOVER) || is(CLIENT_NO_CONTEXT_TAKEOVER) {
            let flag = if is(SERVER_NO_CONTEXT_TAKEOVER) {
                &mut parsed.server_no_context_takeover
            } else {
                &mut parsed.client_no_context_takeover
            };
            if *flag {
                return Err("repeated permessage-deflate parameter");
            }
            // §7.1.1.1/§7.1.1.2: "This extension parameter has no value."
            if value.is_some() {
                return Err("permessage-deflate no_context_takeover parameter with a value");
            }
            *flag = true;
        } else if is(SERVER_MAX_WINDOW_BITS) {
            if parsed.server_max_window_bits.is_some() {
                return Err("repeated permessage-deflate parameter");
            }
            // §7.1.2.1: "This parameter has a decimal integer value".
            let bits = value
                .as_deref()
                .and_then(parse_window_bits)
                .ok_or("invalid permessage-deflate server_max_window_bits")?;
            parsed.server_max_window_bits = Some(bits);
        } else if is(CLIENT_MAX_WINDOW_BITS) {
            if parsed.client_max_window_bits.is_some() {
                return Err("repeated permessage-deflate parameter");
            }
            // §7.1.2.2: "This parameter has no value or a decimal integer value".
            let bits = match value.as_deref() {
                None => None,
                Some(value) => Some(
                    parse_window_bits(value)
                        .ok_or("invalid permessage-deflate client_max_window_bits")?,
                ),
            };
            parsed.client_max_window_bits = Some(bits);
        } else {
            return Err("unknown permessage-deflate parameter");
        }
    }
    Ok(parsed)
}

fn flag(name: &str) -> (String, Option<String>) {
    (name.to_owned(), None)
}

fn window_param(name: &str, bits: u8) -> (String, Option<String>) {
    (name.to_owned(), Some(bits.to_string()))
}

impl Extension for PerMessageDeflate {
    fn name(&self) -> &str {
        NAME
    }

    fn rsv(&self) -> Rsv {
        // §6: "This document allocates the RSV1 bit of the WebSocket header
        // for PMCEs and calls the bit the "Per-Message Compressed" bit."
        Rsv::RSV1
    }

    fn offer(&self) -> Option<ExtensionOffer> {
        let config = &self.config;
        let mut offer = ExtensionOffer::new(NAME);
        if config.server_no_context_takeover {
            offer.params.push(flag(SERVER_NO_CONTEXT_TAKEOVER));
        }
        if config.client_no_context_takeover {
            offer.params.push(flag(CLIENT_NO_CONTEXT_TAKEOVER));
        }
        if let Some(bits) = config.server_max_window_bits {
            offer
                .params
                .push(window_param(SERVER_MAX_WINDOW_BITS, bits));
        }
        // Always offered: it only lets the server limit our window, which
        // we can always honour, down to 8 (see the module docs).
        offer.params.push((
            CLIENT_MAX_WINDOW_BITS.to_owned(),
            config.client_max_window_bits.map(|bits| bits.to_string()),
        ));
        Some(offer)
    }

    fn finalize(&mut self, response: &ExtensionOffer) -> Result<(), HandshakeError> {
        if !response.name.eq_ignore_ascii_case(NAME) {
            return Err(HandshakeError::bad_request(
                "response is not for permessage-deflate",
            ));
        }
        // §7: "A client MUST _Fail the WebSocket Connection_ if the peer
        // server accepted an extension negotiation offer for this extension
        // with an extension negotiation response" with an undefined,
        // invalid or repeated parameter, or a configuration it does not
        // support.
        let params = parse_params(&response.params).map_err(HandshakeError::bad_request)?;
        let config = &self.config;
        // §7.1.2.1: the server accepts "with the same or smaller value as
        // the offer".
        if let (Some(offered), Some(answered)) =
            (config.server_max_window_bits, params.server_max_window_bits)
            && answered > offered
        {
            return Err(HandshakeError::bad_request(
                "server_max_window_bits in the response is larger than offered",
            ));
        }
        // §7.1.2.2: "The client_max_window_bits extension parameter in the
        // extension negotiation response has a decimal integer value". (We
        // always offer it, so its presence alone is never unasked for.)
        let client_window = match params.client_max_window_bits {
            Some(None) => {
                return Err(HandshakeError::bad_request(
                    "client_max_window_bits in the response has no value",
                ));
            }
            Some(Some(bits)) => bits,
            None => MAX_WINDOW_BITS,
        };
        // §7.1.2.2: with a value in the offer, "the client is not going to
        // use an LZ77 sliding window size greater than the size specified
        // by the value in the extension negotiation offer", even if the
        // response allows more.
        let send_max_window_bits =
            client_window.min(config.client_max_window_bits.unwrap_or(MAX_WINDOW_BITS));
        let negotiated = Negotiated {
            send_max_window_bits,
            send_no_context_takeover: params.client_no_context_takeover
                || config.client_no_context_takeover,
            receive_max_window_bits: params.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
            receive_no_context_takeover: params.server_no_context_takeover,
        };
        self.start(negotiated);
        Ok(())
    }

    fn accept(&mut self, offer: &ExtensionOffer) -> Option<ExtensionOffer> {
        if !offer.name.eq_ignore_ascii_case(NAME) {
            return None;
        }
        // §7: "A server MUST decline an extension negotiation offer for
        // this extension if" it has an undefined, invalid or repeated
        // parameter.
        let offered = parse_params(&offer.params).ok()?;
        let config = &self.config;
        let mut response = ExtensionOffer::new(NAME);

        // §7.1.1.1: "A server MAY include the server_no_context_takeover
        // extension parameter in an extension negotiation response even if
        // the extension negotiation offer being accepted by the extension
        // negotiation response didn't include" it.
        let send_no_context_takeover =
            offered.server_no_context_takeover || config.server_no_context_takeover;
        if send_no_context_takeover {
            response.params.push(flag(SERVER_NO_CONTEXT_TAKEOVER));
        }
        // §7.1.1.2: "A server MAY include the client_no_context_takeover
        // extension parameter in an extension negotiation response." When
        // the client hinted it, saying it costs nothing and lets us free
        // the decompressor between messages.
        let receive_no_context_takeover =
            offered.client_no_context_takeover || config.client_no_context_takeover;
        if receive_no_context_takeover {
            response.params.push(flag(CLIENT_NO_CONTEXT_TAKEOVER));
        }
        // §7.1.2.1: accept "with the same or smaller value as the offer";
        // a server "MAY include the server_max_window_bits extension
        // parameter in an extension negotiation response even if the
        // extension negotiation offer being accepted by the response didn't
        // include" it.
        let send_max_window_bits = config
            .server_max_window_bits
            .unwrap_or(MAX_WINDOW_BITS)
            .min(offered.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS));
        if offered.server_max_window_bits.is_some() || send_max_window_bits < MAX_WINDOW_BITS {
            response
                .params
                .push(window_param(SERVER_MAX_WINDOW_BITS, send_max_window_bits));
        }
        // §7.1.2.2: "If a received extension negotiation offer doesn't have
        // the client_max_window_bits extension parameter, the corresponding
        // extension negotiation response to the offer MUST NOT include"
        // it; with a value in the offer, the response's is "equal to or
        // smaller than the received value".
        let mut receive_max_window_bits = MAX_WINDOW_BITS;
        if let Some(offered_bits) = offered.client_max_window_bits {
            receive_max_window_bits = offered_bits.unwrap_or(MAX_WINDOW_BITS);
            if offered_bits.is_some() || config.client_max_window_bits.is_some() {
                receive_max_window_bits = receive_max_window_bits
                    .min(config.client_max_window_bits.unwrap_or(MAX_WINDOW_BITS));
                response.params.push(window_param(
                    CLIENT_MAX_WINDOW_BITS,
                    receive_max_window_bits,
                ));
            }
        }
        self.start(Negotiated {
            send_max_window_bits,
            send_no_context_takeover,
            receive_max_window_bits,
            receive_no_context_takeover,
        });
        Some(response)
    }

    fn decode_start(&mut self, rsv: Rsv) -> Result<bool, ProtocolError> {
        // §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit of
        // control frames and non-first fragments of a data message"; the
        // connection already fails those, so only first frames get here.
        if !rsv.contains(Rsv::RSV1) {
            return Ok(false);
        }
        if self.negotiated.is_none() {
            return Err(ProtocolError::new(
                CloseCode::PROTOCOL_ERROR,
                "RSV1 set but permessage-deflate was not negotiated",
            ));
        }
        self.inbound = Inbound::default();
        Ok(true)
    }

    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        budget: u64,
        max_out: usize,
        out: &mut BytesMut,
    ) -> Result<Decoded, ProtocolError> {
        let Some(negotiated) = self.negotiated else {
            return Err(ProtocolError::new(
                CloseCode::INTERNAL_ERROR,
                "permessage-deflate was not negotiated",
            ));
        };
        let result = self.inflate_piece(input, fin, budget, max_out, out);
        let decoded = match result {
            Ok(decoded) => decoded,
            Err(err) => {
                // The connection has failed: give the memory back now.
                self.inflater = None;
                self.inbound = Inbound::default();
                self.free_scratch_when_idle();
                return Err(err);
            }
        };
        if fin && decoded.done {
            let ended = self.inbound.stream_ended;
            self.inbound = Inbound::default();
            if negotiated.receive_no_context_takeover {
                // The peer starts the next message with an empty window, so
                // ours need not be kept (§7.1.1.1, §7.1.1.2).
                self.inflater = None;
                self.free_scratch_when_idle();
            } else if ended && let Some(inflater) = &mut self.inflater {
                // After a final block the next message is a new stream.
                inflater.reset(false);
            }
        }
        Ok(decoded)
    }

    fn relay_params(&self) -> Option<Negotiated> {
        self.negotiated
    }

    fn max_encoded_len(&self, payload_len: usize) -> usize {
        // Fast levels emit fixed Huffman codes whatever the data (zlib-rs's
        // quick strategy, as zlib-ng's): a literal takes at most 9 bits, so
        // 1/8 more, plus block headers and the sync flush's empty block.
        // Measured: 900 random bytes made 952.
        payload_len
            .saturating_add(payload_len >> 3)
            .saturating_add(payload_len >> 12)
            .saturating_add(64)
    }

    fn encode(
        &mut self,
        _kind: MessageKind,
        payload: &[u8],
        first: bool,
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Rsv>, LocalError> {
        let Some(negotiated) = self.negotiated else {
            return Ok(None);
        };
        if first {
            // Only a whole message's size is known; see the module docs.
            self.sending_compressed = !(fin && payload.len() < self.config.compress_threshold);
        }
        if !self.sending_compressed {
            return Ok(None);
        }
        if self.send_broken {
            return Err(encode_error("an earlier compression failed"));
        }
        let config = &self.config;
        let deflater = self
            .deflater
            .get_or_insert_with(|| new_deflater(config, negotiated.send_max_window_bits));
        let start = out.len();
        if let Err(err) = deflate_into(deflater, payload, &mut self.scratch.out, out) {
            // Part of the message may be in our window but will never reach
            // the peer's: later messages could reference it.
            self.deflater = None;
            self.free_scratch_when_idle();
            self.send_broken = !negotiated.send_no_context_takeover;
            return Err(encode_error(err.as_str()));
        }
        if fin {
            // §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from
            // the tail end."
            let produced = &out[start..];
            if produced.is_empty() {
                // The flush had nothing to add: the stream already ends
                // with the previous fragment's empty block. A lone block
                // header stands for it (see the module docs).
                out.put_u8(0x00);
            } else if produced.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            } else {
                self.deflater = None;
                self.free_scratch_when_idle();
                self.send_broken = !negotiated.send_no_context_takeover;
                return Err(encode_error("sync flush did not end with an empty block"));
            }
            if negotiated.send_no_context_takeover {
                // §7.1.1.1: the compressor "MUST start compressing each new
                // message with an empty LZ77 sliding window"; dropping it
                // also frees its memory between messages.
                self.deflater = None;
                self.free_scratch_when_idle();
            }
        }
        // §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit of
        // control frames and non-first fragments of a data message."
        Ok(Some(if first { Rsv::RSV1 } else { Rsv::NONE }))
    }
}

impl PerMessageDeflate {
    /// Frees the scratch buffer once neither direction keeps a state, so
    /// that freeing the states under no context takeover frees everything.
    fn free_scratch_when_idle(&mut self) {
        if self.deflater.is_none() && self.inflater.is_none() {
            self.scratch = Scratch::default();
        }
    }

    /// Inflates the next bytes of the inbound message into `out`: at most
    /// `max_out` bytes, and at most `budget + 1` past where `out` ends now.
    fn inflate_piece(
        &mut self,
        input: &[u8],
        fin: bool,
        budget: u64,
        max_out: usize,
        out: &mut BytesMut,
    ) -> Result<Decoded, ProtocolError> {
        if out.is_empty() {
            // `out` is what the previous message left of its allocation:
            // take the whole allocation back while nothing is written yet,
            // when no event holds it any more (never allocates). Otherwise
            // a message larger than the remainder moved its first bytes
            // there on its first growth: a copy of up to half of it.
            let _ = out.try_reclaim(out.capacity() + 1);
        }
        let limits = Limits {
            start: out.len(),
            budget,
            max_out,
        };
        let mut consumed = input.len();
        // With no input, a decompressor paused by `max_out` still has
        // output to give.
        if !self.inbound.stream_ended && (!input.is_empty() || self.inflater.is_some()) {
            let inflater = self
                .inflater
                .get_or_insert_with(|| Inflate::new(false, MAX_WINDOW_BITS));
            // A small last piece goes in with the tail (§7.2.2, below): one
            // call instead of two, which on a small message cost a quarter
            // of the inflating.
            let join =
                fin && !input.is_empty() && input.len() <= JOIN_MAX && self.inbound.tail_fed == 0;
            let Scratch { out: buf, joined } = &mut self.scratch;
            let step = if join {
                joined.clear();
                joined.extend_from_slice(input);
                joined.extend_from_slice(&TAIL);
                inflate_into(inflater, joined, &limits, buf, out)?
            } else {
                inflate_into(inflater, input, &limits, buf, out)?
            };
            let (data, tail) = match step.consumed.checked_sub(input.len()) {
                Some(tail) => (input.len(), tail),
                None => (step.consumed, 0),
            };
            self.inbound.tail_fed += tail;
            self.inbound.stream_ended = step.ended;
            if !step.ended {
                consumed = data;
            }
            self.inbound.compressed_len += consumed as u64;
            if step.full {
                return Ok(Decoded {
                    consumed,
                    done: false,
                });
            }
        }
        // §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of
        // the payload of the message." An empty message has no DEFLATE data
        // to end; the tail alone would leave the decompressor inside a
        // stored block. Once fed, the tail may still have output to give,
        // which the call above takes.
        if fin
            && !self.inbound.stream_ended
            && self.inbound.compressed_len > 0
            && self.inbound.tail_fed < TAIL.len()
        {
            let inflater = self
                .inflater
                .get_or_insert_with(|| Inflate::new(false, MAX_WINDOW_BITS));
            let tail = &TAIL[self.inbound.tail_fed..];
            let step = inflate_into(inflater, tail, &limits, &mut self.scratch.out, out)?;
            self.inbound.tail_fed += step.consumed;
            self.inbound.stream_ended = step.ended;
            if step.full {
                return Ok(Decoded {
                    consumed,
                    done: false,
                });
            }
        }
        Ok(Decoded {
            consumed,
            done: true,
        })
    }
}

/// How much one call may inflate.
struct Limits {
    /// Where this call's output starts in `out`.
    start: usize,
    /// The message's remaining budget: more is 1009.
    budget: u64,
    /// The most this call may write.
    max_out: usize,
}

/// What one run of the decompressor did.
struct Inflated {
    consumed: usize,
    /// The DEFLATE stream ended (a final block).
    ended: bool,
    /// `max_out` was reached: more output may be waiting.
    full: bool,
}

fn encode_error(reason: &str) -> LocalError {
    LocalError::Extension {
        name: NAME.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The buffers zlib reads and writes besides the caller's, kept between
/// messages and freed with the last of the two states.
#[derive(Default)]
struct Scratch {
    out: Output,
    /// A small last piece of a message with [`TAIL`] after it, at most
    /// [`JOIN_MAX`] + 4 bytes.
    joined: Vec<u8>,
}

/// The largest last piece of a message copied to be inflated together with
/// [`TAIL`]: a copy this size costs less than a second call into zlib-rs.
const JOIN_MAX: usize = 512;

/// Where zlib writes before the bytes are appended to their destination,
/// in both directions. zlib-rs's safe API writes only into initialized
/// memory, and zeroing a fresh region of the destination for every call
/// cost as much as inflating into it (a 64 KiB message zeroed about 120
/// KiB: the compressor's guess of half the input, and the inflater's
/// doubling steps); this buffer is zeroed once, as it grows. The copy out
/// of it is the one pass over the output that a write into uninitialized
/// memory would save, and that needs unchecked code, which is kept to the
/// SIMD and UTF-8 modules. It grows to the largest piece one call has produced,
/// [`SCRATCH_MIN`] to [`SCRATCH_MAX`] bytes.
#[derive(Default)]
struct Output(Vec<u8>);

/// The smallest scratch: room enough that zlib-rs's fast inflate loop,
/// which wants 260 bytes of output space, runs on small messages.
const SCRATCH_MIN: usize = 1 << 10;

/// The largest scratch: a piece bigger than this takes more calls, and
/// each call copies its output (up to 32 KiB) into zlib-rs's window, so a
/// message up to this size is inflated with the one window copy it needs.
const SCRATCH_MAX: usize = 64 << 10;

impl Output {
    /// The whole buffer, grown first to `want` bytes (kept within
    /// [`SCRATCH_MIN`]..=[`SCRATCH_MAX`]) if it is smaller.
    fn at_least(&mut self, want: usize) -> &mut [u8] {
        let want = want.clamp(SCRATCH_MIN, SCRATCH_MAX);
        if self.0.len() < want {
            self.0.resize(want, 0);
        }
        &mut self.0
    }
}

/// Compresses `input` with a sync flush, appending to `out`.
fn deflate_into(
    deflater: &mut Deflate,
    mut input: &[u8],
    scratch: &mut Output,
    out: &mut BytesMut,
) -> Result<(), zlib_rs::DeflateError> {
    // Enough for most messages in one call; a sync flush adds a few bytes.
    let mut want = input.len() / 2 + 64;
    loop {
        let buf = scratch.at_least(want);
        let (in_before, out_before) = (deflater.total_in(), deflater.total_out());
        let result = deflater.compress(input, buf, DeflateFlush::SyncFlush);
        let consumed = (deflater.total_in() - in_before) as usize;
        let written = (deflater.total_out() - out_before) as usize;
        out.extend_from_slice(&buf[..written]);
        input = &input[consumed..];
        // `BufError` only says no progress was possible (nothing left to
        // flush); it is not a failure.
        result?;
        // zlib: output space left over means all input was consumed and
        // the flush is complete.
        if written < buf.len() {
            return Ok(());
        }
        want = buf.len().saturating_mul(2);
    }
}

/// Inflates `input` into `out`, stopping with 1009 once the message would
/// exceed the budget, and pausing once `max_out` bytes were written. After a
/// final block the rest of `input` is ignored.
fn inflate_into(
    inflater: &mut Inflate,
    mut input: &[u8],
    limits: &Limits,
    scratch: &mut Output,
    out: &mut BytesMut,
) -> Result<Inflated, ProtocolError> {
    // DEFLATE rarely shrinks text by more than 4x; more takes more steps.
    let mut want = input.len().saturating_mul(4);
    let mut consumed_total = 0;
    loop {
        let produced = out.len() - limits.start;
        if produced as u64 > limits.budget {
            return Err(ProtocolError::new(
                CloseCode::MESSAGE_TOO_BIG,
                "decompressed message larger than max_message_size",
            ));
        }
        let call_room = limits.max_out - produced.min(limits.max_out);
        if call_room == 0 {
            return Ok(Inflated {
                consumed: consumed_total,
                ended: false,
                full: true,
            });
        }
        // At most one byte past the budget, so going over is seen without
        // inflating (or allocating) further.
        let budget_room = usize::try_from((limits.budget - produced as u64).saturating_add(1))
            .unwrap_or(usize::MAX);
        let buf = scratch.at_least(want);
        let room = buf.len().min(budget_room).min(call_room);
        let buf = &mut buf[..room];
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let result = inflater.decompress(input, buf, InflateFlush::NoFlush);
        let consumed = (inflater.total_in() - in_before) as usize;
        let written = (inflater.total_out() - out_before) as usize;
        // The message grows by what was inflated, never by a guess.
        out.extend_from_slice(&buf[..written]);
        input = &input[consumed..];
        consumed_total += consumed;
        match result {
            Err(err) => return Err(inflate_error(err, inflater)),
            Ok(Status::StreamEnd) => {
                return Ok(Inflated {
                    consumed: consumed_total,
                    ended: true,
                    full: false,
                });
            }
            Ok(Status::Ok | Status::BufError) => {}
        }
        if written == room {
            // Output full: more may be waiting inside the decompressor.
            want = room.saturating_mul(2);
            continue;
        }
        if input.is_empty() {
            return Ok(Inflated {
                consumed: consumed_total,
                ended: false,
                full: false,
            });
        }
        if consumed == 0 && written == 0 {
            return Err(ProtocolError::new(
                CloseCode::INTERNAL_ERROR,
                "permessage-deflate decompressor made no progress",
            ));
        }
    }
}

fn inflate_error(err: InflateError, inflater: &Inflate) -> ProtocolError {
    match err {
        InflateError::DataError | InflateError::NeedDict { .. } => {
            let detail = inflater.error_message().unwrap_or("invalid data");
            ProtocolError::new(
                CloseCode::INVALID_FRAME_PAYLOAD_DATA,
                format!("invalid compressed data: {detail}"),
            )
        }
        InflateError::StreamError | InflateError::MemError => ProtocolError::new(
            CloseCode::INTERNAL_ERROR,
            format!("permessage-deflate decompressor failed: {}", err.as_str()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(params: &[(&str, Option<&str>)]) -> ExtensionOffer {
        ExtensionOffer {
            name: NAME.to_owned(),
            params: params
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.map(str::to_owned)))
                .collect(),
        }
    }

    fn server(config: DeflateConfig) -> PerMessageDeflate {
        PerMessageDeflate::new(config)
    }

    fn client(config: DeflateConfig) -> PerMessageDeflate {
        PerMessageDeflate::new(config)
    }

    #[test]
    fn window_bits_are_8_to_15_without_leading_zeroes() {
        for bits in 8..=15u8 {
            assert_eq!(parse_window_bits(&bits.to_string()), Some(bits));
        }
        for bad in [
            "", "7", "16", "08", "010", "+9", " 9", "9 ", "1", "0", "99", "x", "١٠",
        ] {
            assert_eq!(parse_window_bits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn browser_offer_gets_a_bare_response() {
        // What Chrome and Firefox send.
        let mut ext = server(DeflateConfig::default());
        let response = ext
            .accept(&offer(&[(CLIENT_MAX_WINDOW_BITS, None)]))
            .unwrap();
        assert_eq!(response.to_header_value(), "permessage-deflate");
        assert_eq!(
            ext.negotiated(),
            Some(Negotiated {
                send_max_window_bits: 15,
                send_no_context_takeover: false,
                receive_max_window_bits: 15,
                receive_no_context_takeover: false,
            })
        );
        // And a bare offer.
        let mut ext = server(DeflateConfig::default());
        assert_eq!(ext.accept(&offer(&[])).unwrap().params, vec![]);
    }

    #[test]
    fn server_honours_every_offered_parameter() {
        let mut ext = server(DeflateConfig::default());
        let response = ext
            .accept(&offer(&[
                (SERVER_NO_CONTEXT_TAKEOVER, None),
                (CLIENT_NO_CONTEXT_TAKEOVER, None),
                (SERVER_MAX_WINDOW_BITS, Some("10")),
                (CLIENT_MAX_WINDOW_BITS, Some("9")),
            ]))
            .unwrap();
        assert_eq!(
            response.to_header_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=9"
        );
        assert_eq!(
            ext.negotiated(),
            Some(Negotiated {
                send_max_window_bits: 10,
                send_no_context_takeover: true,
                receive_max_window_bits: 9,
                receive_no_context_takeover: true,
            })
        );
    }

    #[test]
    fn server_config_limits_apply_where_the_rfc_allows() {
        let config = DeflateConfig::default()
            .with_server_no_context_takeover(true)
            .with_client_no_context_takeover(true)
            .with_server_max_window_bits(Some(11))
            .with_client_max_window_bits(Some(12));
        // Offered client_max_window_bits without a value: we may set one.
        let mut ext = server(config.clone());
        let response = ext
            .accept(&offer(&[(CLIENT_MAX_WINDOW_BITS, None)]))
            .unwrap();
        assert_eq!(
            response.to_header_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=11; client_max_window_bits=12"
        );
        // The smaller of ours and theirs.
        let mut ext = server(config.clone());
        let response = ext
            .accept(&offer(&[
                (SERVER_MAX_WINDOW_BITS, Some("9")),
                (CLIENT_MAX_WINDOW_BITS, Some("13")),
            ]))
            .unwrap();
        assert!(
            response
                .to_header_value()
                .ends_with("server_max_window_bits=9; client_max_window_bits=12")
        );
        assert_eq!(ext.negotiated().unwrap().send_max_window_bits, 9);
        assert_eq!(ext.negotiated().unwrap().receive_max_window_bits, 12);
        // §7.1.2.2: not offered, so it MUST NOT be in the response.
        let mut ext = server(config);
        let response = ext.accept(&offer(&[])).unwrap();
        assert!(!response.to_header_value().contains(CLIENT_MAX_WINDOW_BITS));
        assert_eq!(ext.negotiated().unwrap().receive_max_window_bits, 15);
    }

    #[test]
    fn server_accepts_window_8_both_ways() {
        let mut ext = server(DeflateConfig::default());
        let response = ext
            .accept(&offer(&[
                (SERVER_MAX_WINDOW_BITS, Some("8")),
                (CLIENT_MAX_WINDOW_BITS, Some("8")),
            ]))
            .unwrap();
        assert_eq!(
            response.to_header_value(),
            "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8"
        );
        assert_eq!(ext.negotiated().unwrap().send_max_window_bits, 8);
    }

    #[test]
    fn server_declines_malformed_offers() {
        let bad: &[&[(&str, Option<&str>)]] = &[
            &[("x_unknown", None)],
            &[
                (SERVER_NO_CONTEXT_TAKEOVER, None),
                (SERVER_NO_CONTEXT_TAKEOVER, None),
            ],
            &[
                (CLIENT_NO_CONTEXT_TAKEOVER, None),
                (CLIENT_NO_CONTEXT_TAKEOVER, None),
            ],
            &[
                (CLIENT_MAX_WINDOW_BITS, None),
                (CLIENT_MAX_WINDOW_BITS, Some("10")),
            ],
            &[
                (SERVER_MAX_WINDOW_BITS, Some("10")),
                (SERVER_MAX_WINDOW_BITS, Some("10")),
            ],
            &[(SERVER_NO_CONTEXT_TAKEOVER, Some(""))],
            &[(CLIENT_NO_CONTEXT_TAKEOVER, Some("1"))],
            &[(SERVER_MAX_WINDOW_BITS, None)],
            &[(SERVER_MAX_WINDOW_BITS, Some("7"))],
            &[(SERVER_MAX_WINDOW_BITS, Some("16"))],
            &[(SERVER_MAX_WINDOW_BITS, Some("09"))],
            &[(CLIENT_MAX_WINDOW_BITS, Some("0"))],
            &[(CLIENT_MAX_WINDOW_BITS, Some("abc"))],
            &[(CLIENT_MAX_WINDOW_BITS, Some(""))],
        ];
        for params in bad {
            let mut ext = server(DeflateConfig::default());
            assert_eq!(ext.accept(&offer(params)), None, "{params:?}");
            assert_eq!(ext.negotiated(), None);
        }
        let mut other = offer(&[]);
        other.name = "x-webkit-deflate-frame".into();
        assert_eq!(server(DeflateConfig::default()).accept(&other), None);
    }

    #[test]
    fn negotiate_falls_through_to_the_next_offer() {
        let offers = ExtensionOffer::parse_header(
            "permessage-deflate; server_max_window_bits=16, permessage-deflate; server_max_window_bits=10",
        )
        .unwrap();
        let (accepted, header) =
            crate::extensions::negotiate(&offers, vec![Box::new(server(DeflateConfig::default()))]);
        assert_eq!(accepted.len(), 1);
        assert_eq!(
            header.as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
    }

    #[test]
    fn client_offers() {
        let ext = client(DeflateConfig::default());
        assert_eq!(
            ext.offer().unwrap().to_header_value(),
            "permessage-deflate; client_max_window_bits"
        );
        let ext = client(
            DeflateConfig::default()
                .with_server_no_context_takeover(true)
                .with_client_no_context_takeover(true)
                .with_server_max_window_bits(Some(10))
                .with_client_max_window_bits(Some(11)),
        );
        assert_eq!(
            ext.offer().unwrap().to_header_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=11"
        );
    }

    #[test]
    fn client_accepts_what_the_rfc_lets_a_server_answer() {
        // Unsolicited server_no_context_takeover, client_no_context_takeover
        // and server_max_window_bits are allowed (§7.1.1.1, §7.1.1.2, §7.1.2.1).
        let mut ext = client(DeflateConfig::default());
        ext.finalize(&offer(&[
            (SERVER_NO_CONTEXT_TAKEOVER, None),
            (CLIENT_NO_CONTEXT_TAKEOVER, None),
            (SERVER_MAX_WINDOW_BITS, Some("12")),
            (CLIENT_MAX_WINDOW_BITS, Some("8")),
        ]))
        .unwrap();
        assert_eq!(
            ext.negotiated(),
            Some(Negotiated {
                send_max_window_bits: 8,
                send_no_context_takeover: true,
                receive_max_window_bits: 12,
                receive_no_context_takeover: true,
            })
        );
        // A response window above what we offered: we keep to ours (§7.1.2.2).
        let mut ext = client(DeflateConfig::default().with_client_max_window_bits(Some(10)));
        ext.finalize(&offer(&[(CLIENT_MAX_WINDOW_BITS, Some("13"))]))
            .unwrap();
        assert_eq!(ext.negotiated().unwrap().send_max_window_bits, 10);
        // Our own no-context-takeover holds whatever the response says.
        let mut ext = client(DeflateConfig::default().with_client_no_context_takeover(true));
        ext.finalize(&offer(&[])).unwrap();
        assert!(ext.negotiated().unwrap().send_no_context_takeover);
        // Equal server window is fine; a server ignoring our request too.
        let mut ext = client(DeflateConfig::default().with_server_max_window_bits(Some(10)));
        ext.finalize(&offer(&[(SERVER_MAX_WINDOW_BITS, Some("10"))]))
            .unwrap();
        let mut ext = client(DeflateConfig::default().with_server_max_window_bits(Some(10)));
        ext.finalize(&offer(&[])).unwrap();
        assert_eq!(ext.negotiated().unwrap().receive_max_window_bits, 15);
    }

    #[test]
    fn client_fails_on_invalid_responses() {
        let bad: &[&[(&str, Option<&str>)]] = &[
            &[("x_unknown", None)],
            &[
                (SERVER_NO_CONTEXT_TAKEOVER, None),
                (SERVER_NO_CONTEXT_TAKEOVER, None),
            ],
            &[(CLIENT_NO_CONTEXT_TAKEOVER, Some("x"))],
            &[(SERVER_MAX_WINDOW_BITS, None)],
            &[(SERVER_MAX_WINDOW_BITS, Some("16"))],
            &[(CLIENT_MAX_WINDOW_BITS, Some("7"))],
            // §7.1.2.2: the response's client_max_window_bits has a value.
            &[(CLIENT_MAX_WINDOW_BITS, None)],
            // Above the server_max_window_bits=10 we offer below.
            &[(SERVER_MAX_WINDOW_BITS, Some("11"))],
        ];
        for params in bad {
            let mut ext = client(DeflateConfig::default().with_server_max_window_bits(Some(10)));
            let err = ext.finalize(&offer(params)).unwrap_err();
            assert_eq!(err.status, http::StatusCode::BAD_REQUEST, "{params:?}");
            assert_eq!(ext.negotiated(), None);
        }
        let mut other = offer(&[]);
        other.name = "x-other".into();
        assert!(client(DeflateConfig::default()).finalize(&other).is_err());
    }

    #[test]
    #[should_panic(expected = "window bits must be 8..=15")]
    fn config_window_out_of_range_panics() {
        let _ =
            PerMessageDeflate::new(DeflateConfig::default().with_server_max_window_bits(Some(7)));
    }

    #[test]
    #[should_panic(expected = "level must be 0..=9")]
    fn config_level_out_of_range_panics() {
        let _ = PerMessageDeflate::new(DeflateConfig::default().with_level(10));
    }

    /// A negotiated pair, driven through the trait alone.
    fn pair(config: DeflateConfig) -> (PerMessageDeflate, PerMessageDeflate) {
        let mut c = client(config.clone());
        let mut s = server(config);
        let response = s.accept(&c.offer().unwrap()).unwrap();
        c.finalize(&response).unwrap();
        (c, s)
    }

    fn send(ext: &mut PerMessageDeflate, data: &[u8]) -> (Option<Rsv>, BytesMut) {
        let mut out = BytesMut::new();
        let rsv = ext
            .encode(MessageKind::Binary, data, true, true, &mut out)
            .unwrap();
        (rsv, out)
    }

    fn receive(
        ext: &mut PerMessageDeflate,
        wire: &[u8],
        limit: u64,
    ) -> Result<BytesMut, ProtocolError> {
        assert!(ext.decode_start(Rsv::RSV1)?);
        let mut out = BytesMut::new();
        ext.decode(wire, true, limit, usize::MAX, &mut out)?;
        Ok(out)
    }

    #[test]
    fn state_is_allocated_lazily_and_freed_without_context_takeover() {
        let (mut c, mut s) = pair(DeflateConfig::default());
        assert!(c.deflater.is_none() && c.inflater.is_none());
        // Below the threshold: nothing compressed, nothing allocated.
        assert_eq!(send(&mut c, b"tiny").0, None);
        assert!(c.deflater.is_none());
        let data = b"some text that is long enough to be compressed, some text".repeat(3);
        let (rsv, wire) = send(&mut c, &data);
        assert_eq!(rsv, Some(Rsv::RSV1));
        assert!(c.deflater.is_some(), "kept for context takeover");
        assert_eq!(&receive(&mut s, &wire, 1 << 20).unwrap()[..], &data[..]);
        assert!(s.inflater.is_some(), "kept for context takeover");

        let (mut c, mut s) = pair(
            DeflateConfig::default()
                .with_server_no_context_takeover(true)
                .with_client_no_context_takeover(true),
        );
        let (_, wire) = send(&mut c, &data);
        assert!(c.deflater.is_none(), "freed after the message");
        assert_eq!(&receive(&mut s, &wire, 1 << 20).unwrap()[..], &data[..]);
        assert!(s.inflater.is_none(), "freed after the message");
    }

    #[test]
    fn encoded_size_never_exceeds_max_encoded_len() {
        let mut x: u32 = 0x2545_f491;
        let noise: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for level in 0..=9 {
            let (mut c, _) = pair(DeflateConfig::default().with_level(level));
            for len in [0, 1, 33, 100, 1000, 16_384, 70_000, 300_000] {
                let (_, wire) = send(&mut c, &noise[..len]);
                assert!(
                    wire.len() <= c.max_encoded_len(len),
                    "level {level}, {len} bytes: {} > {}",
                    wire.len(),
                    c.max_encoded_len(len)
                );
            }
        }
    }

    #[test]
    fn pieces_of_any_size_inflate_with_bounded_output_per_call() {
        let (mut c, mut s) = pair(DeflateConfig::default());
        let data: Vec<u8> = (0..1 << 20)
            .map(|i| b"abcdefgh"[(i % 8) ^ ((i >> 12) % 3)])
            .collect();
        let (_, wire) = send(&mut c, &data);
        assert!(wire.len() < data.len() / 50, "compressible: {}", wire.len());
        for (piece, max_out) in [(7, 4096), (1, 100), (wire.len(), 64 << 10)] {
            let (mut c, mut s2) = pair(DeflateConfig::default());
            let (_, wire) = send(&mut c, &data);
            assert!(s2.decode_start(Rsv::RSV1).unwrap());
            let mut out = BytesMut::new();
            let mut rest = &wire[..];
            loop {
                let fin = rest.len() <= piece;
                let input = &rest[..rest.len().min(piece)];
                let before = out.len();
                let step = s2.decode(input, fin, u64::MAX, max_out, &mut out).unwrap();
                assert!(out.len() - before <= max_out);
                rest = &rest[step.consumed..];
                if fin && step.done && rest.is_empty() {
                    break;
                }
            }
            assert!(out[..] == data[..], "piece {piece}, max_out {max_out}");
        }
        assert_eq!(&receive(&mut s, &wire, u64::MAX).unwrap()[..], &data[..]);
    }

    /// A small last piece is inflated together with the tail; a pause by
    /// `max_out` anywhere in it, including inside the tail, loses nothing
    /// and leaves the shared window in step for the next message. Also
    /// the other side of the cut: the largest joined piece and the
    /// smallest one that is not.
    #[test]
    fn a_small_last_piece_inflates_with_the_tail_under_any_pause() {
        let mut data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        data.extend_from_slice(&b"a repeated line, a repeated line\n".repeat(40));
        for max_out in [1, 2, 3, 5, 64, 259, 1000, usize::MAX] {
            let (mut c, mut s) = pair(DeflateConfig::default());
            for (n, len) in [200, 40, data.len(), 600, 1, 3000, 33]
                .into_iter()
                .enumerate()
            {
                let message = &data[..len.max(c.config.compress_threshold)];
                let (_, wire) = send(&mut c, message);
                assert!(s.decode_start(Rsv::RSV1).unwrap());
                let mut out = BytesMut::new();
                let mut rest = &wire[..];
                let mut calls = 0;
                loop {
                    let before = out.len();
                    let step = s.decode(rest, true, 1 << 20, max_out, &mut out).unwrap();
                    assert!(out.len() - before <= max_out);
                    rest = &rest[step.consumed..];
                    calls += 1;
                    assert!(calls <= 2 * message.len() + 10, "no progress");
                    if step.done {
                        break;
                    }
                }
                assert!(rest.is_empty());
                assert!(out[..] == message[..], "message {n}, max_out {max_out}");
                assert_eq!(s.inbound.tail_fed, 0, "reset at the message's end");
            }
        }
        // Around the cut, with 1009 on the joined call.
        let (mut c, mut s) = pair(DeflateConfig::default().with_level(0));
        for len in [JOIN_MAX - 7, JOIN_MAX - 6, JOIN_MAX - 5] {
            // Level 0: stored blocks, so the wire is the data plus 5 bytes
            // (block header) plus the 5-byte sync flush, less the tail.
            let (_, wire) = send(&mut c, &data[..len]);
            assert_eq!(wire.len(), len + 6, "joined up to {JOIN_MAX} bytes");
            assert_eq!(&receive(&mut s, &wire, 1 << 20).unwrap()[..], &data[..len]);
            let (_, wire) = send(&mut c, &data[..len]);
            assert!(s.decode_start(Rsv::RSV1).unwrap());
            let mut out = BytesMut::new();
            let err = s
                .decode(&wire, true, len as u64 - 1, usize::MAX, &mut out)
                .unwrap_err();
            assert_eq!(err.code, CloseCode::MESSAGE_TOO_BIG);
            assert_eq!(out.len(), len, "at most budget + 1 bytes made");
            assert!(s.inflater.is_none());
        }
    }

    #[test]
    fn inflater_is_dropped_after_an_error() {
        let (mut c, mut s) = pair(DeflateConfig::default());
        let data = vec![b'a'; 1000];
        let (_, wire) = send(&mut c, &data);
        assert_eq!(receive(&mut s, &wire, 1 << 20).unwrap().len(), 1000);
        assert!(s.inflater.is_some());
        // 0xff: BFINAL=1, BTYPE=11, a reserved block type.
        let err = receive(&mut s, &[0xff, 0xff], 1 << 20).unwrap_err();
        assert_eq!(err.code, CloseCode::INVALID_FRAME_PAYLOAD_DATA);
        assert!(s.inflater.is_none());
        // Over the budget: 1009, dropped too, at most limit + 1 bytes made.
        let (mut c, mut s) = pair(DeflateConfig::default());
        let (_, wire) = send(&mut c, &data);
        assert!(s.decode_start(Rsv::RSV1).unwrap());
        let mut out = BytesMut::new();
        let err = s
            .decode(&wire, true, 999, usize::MAX, &mut out)
            .unwrap_err();
        assert_eq!(err.code, CloseCode::MESSAGE_TOO_BIG);
        assert_eq!(out.len(), 1000);
        assert!(s.inflater.is_none());
        // Exactly the budget is fine.
        let (mut c, mut s) = pair(DeflateConfig::default());
        let (_, wire) = send(&mut c, &data);
        assert_eq!(receive(&mut s, &wire, 1000).unwrap().len(), 1000);
        // No limit at all (max_message_size u64::MAX) does not overflow.
        let (_, wire) = send(&mut c, &data);
        assert_eq!(receive(&mut s, &wire, u64::MAX).unwrap().len(), 1000);
    }

    #[test]
    fn rsv1_without_negotiation_is_a_protocol_error() {
        let mut ext = PerMessageDeflate::new(DeflateConfig::default());
        assert!(!ext.decode_start(Rsv::NONE).unwrap());
        let err = ext.decode_start(Rsv::RSV1).unwrap_err();
        assert_eq!(err.code, CloseCode::PROTOCOL_ERROR);
        let mut out = BytesMut::new();
        assert_eq!(
            ext.encode(
                MessageKind::Text,
                b"hello hello hello hello hello hello",
                true,
                true,
                &mut out
            ),
            Ok(None)
        );
    }

    #[test]
    fn empty_messages() {
        let (mut c, mut s) = pair(DeflateConfig::default().with_compress_threshold(0));
        for _ in 0..3 {
            let (rsv, wire) = send(&mut c, b"");
            assert_eq!(rsv, Some(Rsv::RSV1));
            assert_eq!(&wire[..], &[0x00]);
            assert!(receive(&mut s, &wire, 0).unwrap().is_empty());
        }
        // An empty payload is an empty message, and leaves the context intact.
        assert!(receive(&mut s, &[], 0).unwrap().is_empty());
        let (_, wire) = send(&mut c, b"after");
        assert_eq!(&receive(&mut s, &wire, 5).unwrap()[..], b"after");
    }
}
