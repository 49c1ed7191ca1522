//! permessage-deflate end to end: two `Open` endpoints negotiated through
//! the extension's own offer/accept/finalize, every parameter combination
//! in both directions, the RFC 7692 §7.2.3 examples, limits, corrupt data,
//! and interop with an independent DEFLATE implementation (miniz_oxide,
//! through the flate2-shaped shim in `support/miniz_flate.rs`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use wsproto::extensions::deflate::Negotiated;
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::frame::{FrameHeader, Opcode, Rsv};
use wsproto::mask::apply_mask;
use wsproto::{
    Client, CloseCode, Config, Event, LocalError, MessageKind, MessageMode, Open, ProtocolError,
    Role, Server,
};

#[path = "support/miniz_flate.rs"]
mod miniz_flate;
use miniz_flate::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

#[path = "support/strict_inflate.rs"]
mod strict_inflate;

use strict_inflate::StrictInflater;

const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

// ---- harness ---------------------------------------------------------------

/// Negotiates as the handshake would: the client's offer, the server's
/// accept, the client's finalize.
fn negotiate(
    client: DeflateConfig,
    server: DeflateConfig,
) -> (PerMessageDeflate, PerMessageDeflate) {
    let mut client_ext = PerMessageDeflate::new(client);
    let mut server_ext = PerMessageDeflate::new(server);
    let offer = client_ext.offer().expect("client offers");
    let response = server_ext.accept(&offer).expect("server accepts");
    client_ext
        .finalize(&response)
        .expect("client accepts the response");
    (client_ext, server_ext)
}

struct Pair {
    client: Open<Client>,
    server: Open<Server>,
    /// The client's view: send = client-to-server.
    client_params: Negotiated,
    /// The server's view: send = server-to-client.
    server_params: Negotiated,
}

fn pair_with(config: Config, client: DeflateConfig, server: DeflateConfig) -> Pair {
    let (client_ext, server_ext) = negotiate(client, server);
    let client_params = client_ext.negotiated().unwrap();
    let server_params = server_ext.negotiated().unwrap();
    // Both ends must agree on each direction.
    assert!(
        !server_params.receive_no_context_takeover || client_params.send_no_context_takeover,
        "if the server counts on the client resetting, the client must reset"
    );
    assert_eq!(
        server_params.send_no_context_takeover,
        client_params.receive_no_context_takeover
    );
    assert!(server_params.send_max_window_bits <= client_params.receive_max_window_bits);
    assert!(client_params.send_max_window_bits <= server_params.receive_max_window_bits);
    Pair {
        client: Open::<Client>::new(config.clone(), vec![Box::new(client_ext)]),
        server: Open::<Server>::new(config, vec![Box::new(server_ext)]),
        client_params,
        server_params,
    }
}

fn pair(client: DeflateConfig, server: DeflateConfig) -> Pair {
    pair_with(Config::default(), client, server)
}

fn drain<R: Role>(conn: &mut Open<R>) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = conn.poll_event().expect("no protocol error") {
        events.push(event);
    }
    events
}

fn poll_error<R: Role>(conn: &mut Open<R>) -> ProtocolError {
    loop {
        match conn.poll_event() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("expected a protocol error"),
            Err(err) => return err,
        }
    }
}

/// One frame as it crossed the wire, unmasked.
#[derive(Debug)]
struct WireFrame {
    fin: bool,
    rsv: Rsv,
    opcode: Opcode,
    payload: Vec<u8>,
}

fn parse_frames(mut bytes: &[u8]) -> Vec<WireFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (header, len) = FrameHeader::decode(bytes).unwrap().expect("whole frame");
        let end = len + header.payload_len as usize;
        let mut payload = bytes[len..end].to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        frames.push(WireFrame {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            payload,
        });
        bytes = &bytes[end..];
    }
    frames
}

/// Builds one frame; masked when it goes to a server.
fn frame(opcode: Opcode, rsv: Rsv, fin: bool, payload: &[u8], masked: bool) -> Vec<u8> {
    let mask = masked.then_some([0x37, 0xfa, 0x21, 0x3d]);
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        mask,
        payload_len: payload.len() as u64,
    };
    let (raw, len) = header.encode();
    let mut out = raw[..len].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// Inflates one direction's compressed messages independently of the code
/// under test, failing any reference beyond the window the sender
/// promised. Under no context takeover each message starts with an empty
/// window, which also proves the sender reset.
struct WindowChecker {
    no_context_takeover: bool,
    inflater: StrictInflater,
}

impl WindowChecker {
    fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        Self {
            no_context_takeover,
            inflater: StrictInflater::new(window_bits),
        }
    }

    fn inflate(&mut self, message: &[u8]) -> Result<Vec<u8>, String> {
        if self.no_context_takeover {
            self.inflater.reset();
        }
        let mut input = message.to_vec();
        input.extend_from_slice(&TAIL);
        self.inflater.message(&input)
    }
}

/// Reassembles the data messages in `frames`: (rsv of the first frame,
/// payload as sent).
fn messages(frames: &[WireFrame]) -> Vec<(Rsv, Vec<u8>)> {
    let mut out = Vec::new();
    let mut current: Option<(Rsv, Vec<u8>)> = None;
    for f in frames {
        match f.opcode {
            Opcode::Text | Opcode::Binary => {
                assert!(current.is_none());
                current = Some((f.rsv, f.payload.clone()));
            }
            Opcode::Continuation => {
                assert_eq!(f.rsv, Rsv::NONE, "RSV1 only on the first frame");
                current.as_mut().unwrap().1.extend_from_slice(&f.payload);
            }
            _ => continue,
        }
        if f.fin {
            out.push(current.take().unwrap());
        }
    }
    out
}

/// Deterministic test data: words with repeats from near and far back, so
/// a compressor with a large window finds matches a small window can't.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "alpha ",
        "beta ",
        "gamma ",
        "delta ",
        "{\"id\":",
        "\"name\":\"",
        "\", ",
        "},\n",
        "websocket ",
        "deflate ",
        "window ",
        "0123456789",
        "lorem ipsum ",
    ];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        match next() % 8 {
            0 if out.len() > 64 => {
                // Repeat a run from anywhere earlier.
                let from = next() % (out.len() - 32);
                let run = 8 + next() % 24;
                let copy = out[from..from + run].to_vec();
                out.extend_from_slice(&copy);
            }
            1 => out.push((next() % 256) as u8 & 0x7f),
            _ => out.extend_from_slice(WORDS[next() % WORDS.len()].as_bytes()),
        }
    }
    out.truncate(len);
    out
}

// ---- the checker checks ----------------------------------------------------

fn deflate_raw(level: i32, window_bits: u8, messages: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut deflater = zlib_rs::Deflate::new(level, false, window_bits);
    let mut out = vec![0u8; 256 << 10];
    messages
        .iter()
        .map(|message| {
            let before = deflater.total_out();
            deflater
                .compress(message, &mut out, zlib_rs::DeflateFlush::SyncFlush)
                .unwrap();
            let n = (deflater.total_out() - before) as usize;
            assert!(out[..n].ends_with(&TAIL));
            out[..n - 4].to_vec()
        })
        .collect()
}

#[test]
fn window_checker_rejects_a_larger_window() {
    // A stream that references further back than the checker's window
    // fails it. Without this, the window assertions below would prove
    // nothing.
    let data = vec![sample(64 << 10, 7)];
    for (deflate_bits, check_bits) in [(10u8, 8u8), (10, 9), (13, 12), (15, 12), (15, 14)] {
        let compressed = deflate_raw(6, deflate_bits, &data);
        let mut checker = WindowChecker::new(check_bits, true);
        let result = checker.inflate(&compressed[0]);
        assert!(result.is_err(), "{deflate_bits} vs {check_bits}");
        let mut checker = WindowChecker::new(deflate_bits, true);
        assert_eq!(checker.inflate(&compressed[0]).unwrap(), data[0]);
    }
}

#[test]
fn a_9_bit_compressor_fits_an_8_bit_window() {
    // What the 8-bit support rests on (see the module docs): zlib-rs never
    // references more than 512 - 262 = 250 bytes back with a 9-bit window,
    // at any level, across messages too.
    let messages: Vec<Vec<u8>> = (0..20).map(|i| sample(3000, i)).collect();
    for level in 0..=9 {
        let compressed = deflate_raw(level, 9, &messages);
        let mut checker = WindowChecker::new(8, false);
        for (message, data) in compressed.iter().zip(&messages) {
            assert_eq!(&checker.inflate(message).unwrap(), data, "level {level}");
        }
    }
}

// ---- round trips -----------------------------------------------------------

/// Sends `payloads` one way, checks what arrives and what was on the wire.
fn exchange<A: Role, B: Role>(
    from: &mut Open<A>,
    to: &mut Open<B>,
    sent_params: Negotiated,
    threshold: usize,
    payloads: &[Vec<u8>],
) -> Vec<(Rsv, Vec<u8>)> {
    let checker = WindowChecker::new(
        sent_params.send_max_window_bits,
        sent_params.send_no_context_takeover,
    );
    exchange_checked(from, to, Some(checker), threshold, payloads)
}

/// As [`exchange`]; `checker` is `None` when it can't follow the context
/// (messages it did not see came before).
fn exchange_checked<A: Role, B: Role>(
    from: &mut Open<A>,
    to: &mut Open<B>,
    mut checker: Option<WindowChecker>,
    threshold: usize,
    payloads: &[Vec<u8>],
) -> Vec<(Rsv, Vec<u8>)> {
    let mut all = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        if i % 2 == 0 {
            from.send_binary(payload).unwrap();
        } else {
            from.send_text(std::str::from_utf8(payload).unwrap())
                .unwrap();
        }
        let wire = from.take_outgoing();
        let sent = messages(&parse_frames(&wire));
        assert_eq!(sent.len(), 1);
        let (rsv, body) = &sent[0];
        let compressed = *rsv == Rsv::RSV1;
        assert_eq!(
            compressed,
            payload.len() >= threshold,
            "len {}",
            payload.len()
        );
        if let (true, Some(checker)) = (compressed, &mut checker) {
            let inflated = checker
                .inflate(body)
                .unwrap_or_else(|e| panic!("message {i} breaks the promised window: {e}"));
            assert_eq!(&inflated, payload);
        } else if !compressed {
            assert_eq!(body, payload);
        }
        to.receive(&wire).unwrap();
        let events = drain(to);
        let expected = if i % 2 == 0 {
            Event::Binary(Bytes::from(payload.clone()))
        } else {
            Event::Text(String::from_utf8(payload.clone()).unwrap().into())
        };
        assert_eq!(events, vec![expected]);
        all.extend(sent);
    }
    all
}

fn text_payloads() -> Vec<Vec<u8>> {
    payloads_with(sample(40 << 10, 1))
}

/// Every kind of message, around one large one: two equal (context), one
/// under the threshold, the large one twice (its second copy references
/// the first from tens of KiB back), an empty one, runs of one byte.
fn payloads_with(big: Vec<u8>) -> Vec<Vec<u8>> {
    vec![
        sample(2000, 2),
        sample(2000, 2),
        b"tiny".to_vec(),
        big.clone(),
        big,
        Vec::new(),
        sample(300, 3),
        vec![b'z'; 5000],
    ]
}

#[test]
fn every_parameter_combination_round_trips_both_ways() {
    let windows = [None, Some(8), Some(9), Some(12), Some(15)];
    let server_configs = [
        DeflateConfig::default(),
        DeflateConfig::default()
            .with_server_no_context_takeover(true)
            .with_client_no_context_takeover(true),
        DeflateConfig::default()
            .with_server_max_window_bits(Some(8))
            .with_client_max_window_bits(Some(8)),
        DeflateConfig::default()
            .with_server_max_window_bits(Some(11))
            .with_client_max_window_bits(Some(10))
            .with_level(9)
            .with_memory_level(9),
        DeflateConfig::default().with_level(6).with_memory_level(1),
        DeflateConfig::default()
            .with_level(0)
            .with_compress_threshold(0),
    ];
    // 600 pairs: a large message of 8 KiB (references past 4 KiB still
    // test windows up to 12 bits) keeps the debug-build run short.
    let payloads = payloads_with(sample(8 << 10, 1));
    let mut combos = 0;
    for server_config in &server_configs {
        for server_nct in [false, true] {
            for client_nct in [false, true] {
                for server_bits in windows {
                    for client_bits in windows {
                        let client_config = DeflateConfig::default()
                            .with_server_no_context_takeover(server_nct)
                            .with_client_no_context_takeover(client_nct)
                            .with_server_max_window_bits(server_bits)
                            .with_client_max_window_bits(client_bits);
                        let mut p = pair(client_config.clone(), server_config.clone());
                        let context = format!("{client_config:?} / {server_config:?}");
                        // What each side promised holds.
                        if let Some(bits) = server_bits {
                            assert!(p.server_params.send_max_window_bits <= bits, "{context}");
                        }
                        if let Some(bits) = client_bits {
                            assert!(p.client_params.send_max_window_bits <= bits, "{context}");
                        }
                        assert_eq!(
                            p.server_params.send_no_context_takeover,
                            server_nct || server_config.server_no_context_takeover
                        );
                        assert_eq!(
                            p.client_params.send_no_context_takeover,
                            client_nct || server_config.client_no_context_takeover
                        );
                        exchange(&mut p.client, &mut p.server, p.client_params, 32, &payloads);
                        exchange(
                            &mut p.server,
                            &mut p.client,
                            p.server_params,
                            server_config.compress_threshold,
                            &payloads,
                        );
                        combos += 1;
                    }
                }
            }
        }
    }
    assert_eq!(combos, 6 * 4 * 25);
}

#[test]
fn window_bits_8_to_15_are_honoured() {
    let payloads = text_payloads();
    for bits in 8..=15 {
        let config = DeflateConfig::default()
            .with_server_max_window_bits(Some(bits))
            .with_client_max_window_bits(Some(bits));
        let mut p = pair(config.clone(), config);
        assert_eq!(p.server_params.send_max_window_bits, bits);
        assert_eq!(p.client_params.send_max_window_bits, bits);
        let sent = exchange(&mut p.client, &mut p.server, p.client_params, 32, &payloads);
        exchange(&mut p.server, &mut p.client, p.server_params, 32, &payloads);
        let (_, big) = &sent[3];
        assert!(big.len() < payloads[3].len() / 2, "{bits}: {}", big.len());
    }
    // The 8-bit window with every kind of zlib-rs match finder.
    for level in 0..=9 {
        let config = DeflateConfig::default()
            .with_level(level)
            .with_server_max_window_bits(Some(8))
            .with_client_max_window_bits(Some(8));
        let mut p = pair(config.clone(), config);
        exchange(&mut p.client, &mut p.server, p.client_params, 32, &payloads);
        exchange(&mut p.server, &mut p.client, p.server_params, 32, &payloads);
    }
}

#[test]
fn context_takeover_shares_the_window_and_no_context_takeover_resets_it() {
    let message = sample(1500, 9);
    for no_context_takeover in [false, true] {
        let config = DeflateConfig::default()
            .with_server_no_context_takeover(no_context_takeover)
            .with_client_no_context_takeover(no_context_takeover);
        let mut p = pair(config.clone(), config);
        let payloads = vec![message.clone(), message.clone(), message.clone()];
        for sent in [
            exchange(&mut p.client, &mut p.server, p.client_params, 32, &payloads),
            exchange(&mut p.server, &mut p.client, p.server_params, 32, &payloads),
        ] {
            if no_context_takeover {
                // Each message starts from an empty window: same bytes.
                assert_eq!(sent[0].1, sent[1].1);
                assert_eq!(sent[1].1, sent[2].1);
            } else {
                // The repeat is a few references to the previous message.
                let (first, repeat) = (sent[0].1.len(), sent[1].1.len());
                assert!(repeat * 4 < first, "{repeat} vs {first}");
            }
        }
    }
}

#[test]
fn compress_threshold_applies_to_whole_messages() {
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    for (len, compressed) in [(0, false), (31, false), (32, true), (33, true)] {
        p.client.send_binary(&vec![b'a'; len]).unwrap();
        let frames = parse_frames(&p.client.take_outgoing());
        assert_eq!(frames[0].rsv == Rsv::RSV1, compressed, "{len}");
    }
    // A fragmented message is compressed even if its first fragment is small.
    p.client
        .send_fragment(MessageKind::Binary, b"ab", false)
        .unwrap();
    p.client
        .send_fragment(MessageKind::Binary, b"cd", true)
        .unwrap();
    let frames = parse_frames(&p.client.take_outgoing());
    assert_eq!(frames[0].rsv, Rsv::RSV1);
    assert_eq!(frames[1].rsv, Rsv::NONE);
    // Threshold 0 compresses everything, even an empty message.
    let config = DeflateConfig::default().with_compress_threshold(0);
    let mut p = pair(config.clone(), config);
    p.server.send_binary(b"").unwrap();
    let frames = parse_frames(&p.server.take_outgoing());
    assert_eq!(
        (frames[0].rsv, &frames[0].payload[..]),
        (Rsv::RSV1, &[0u8][..])
    );
}

// ---- fragments ---------------------------------------------------------------

/// Sends `pieces` as one fragmented message and checks the receiver's view
/// in whole and streaming mode.
fn fragmented<A: Role, B: Role>(
    from: &mut Open<A>,
    to: &mut Open<B>,
    pieces: &[&[u8]],
    kind: MessageKind,
) {
    for (i, piece) in pieces.iter().enumerate() {
        from.send_fragment(kind, piece, i + 1 == pieces.len())
            .unwrap();
    }
    let wire = from.take_outgoing();
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), pieces.len());
    assert_eq!(frames[0].rsv, Rsv::RSV1);
    assert!(
        frames[1..]
            .iter()
            .all(|f| f.rsv == Rsv::NONE && f.opcode == Opcode::Continuation)
    );
    to.receive(&wire).unwrap();
    let whole: Vec<u8> = pieces.concat();
    let events = drain(to);
    match to.config().message_mode {
        MessageMode::Whole => {
            let expected = match kind {
                MessageKind::Binary => Event::Binary(whole.into()),
                MessageKind::Text => Event::Text(String::from_utf8(whole).unwrap().into()),
            };
            assert_eq!(events, vec![expected]);
        }
        MessageMode::Streaming => {
            // One chunk per frame; the data adds up.
            assert_eq!(events.len(), pieces.len());
            let mut got = Vec::new();
            for (i, event) in events.into_iter().enumerate() {
                let last = i + 1 == pieces.len();
                match event {
                    Event::BinaryChunk {
                        data,
                        message_finished,
                        ..
                    } => {
                        assert_eq!(message_finished, last);
                        got.extend_from_slice(&data);
                    }
                    Event::TextChunk {
                        data,
                        message_finished,
                        ..
                    } => {
                        assert_eq!(message_finished, last);
                        got.extend_from_slice(data.as_bytes());
                    }
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(got, whole);
        }
        // Frame mode inflates nothing; tests/relay.rs covers it.
        mode => unreachable!("{mode:?} is not used with this helper"),
    }
}

#[test]
fn fragmented_compressed_messages_both_ways() {
    let big = sample(30 << 10, 4);
    let text = "héllo wörld, fragmented text ".repeat(40);
    // Split inside a multi-byte character on purpose.
    let split = text.find('é').unwrap() + 1;
    let cases: Vec<(Vec<&[u8]>, MessageKind)> = vec![
        (
            vec![&big[..1000], &big[1000..20000], &big[20000..]],
            MessageKind::Binary,
        ),
        (
            vec![&big[..10], b"", &big[10..500], b""],
            MessageKind::Binary,
        ),
        (vec![b"", b"", b""], MessageKind::Binary),
        (
            vec![&text.as_bytes()[..split], &text.as_bytes()[split..]],
            MessageKind::Text,
        ),
        (vec![b"x"; 50], MessageKind::Binary),
    ];
    for mode in [MessageMode::Whole, MessageMode::Streaming] {
        for nct in [false, true] {
            let config = DeflateConfig::default()
                .with_server_no_context_takeover(nct)
                .with_client_no_context_takeover(nct);
            let mut p = pair_with(
                Config::default().with_message_mode(mode),
                config.clone(),
                config,
            );
            for (pieces, kind) in &cases {
                fragmented(&mut p.client, &mut p.server, pieces, *kind);
                fragmented(&mut p.server, &mut p.client, pieces, *kind);
            }
            // Whole messages still work after fragmented ones share the window.
            let payloads = text_payloads();
            if mode == MessageMode::Whole {
                exchange_checked(&mut p.client, &mut p.server, None, 32, &payloads);
                exchange_checked(&mut p.server, &mut p.client, None, 32, &payloads);
            }
        }
    }
}

#[test]
fn fragments_are_flushed_so_each_can_be_inflated_on_arrival() {
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    let data = sample(4000, 5);
    p.server
        .send_fragment(MessageKind::Binary, &data[..2000], false)
        .unwrap();
    let first = parse_frames(&p.server.take_outgoing()).remove(0);
    // The non-final fragment keeps its sync-flush tail, so an inflater
    // gets all 2000 bytes from it alone.
    assert!(first.payload.ends_with(&TAIL));
    let mut inflater = Decompress::new(false);
    let mut out = Vec::with_capacity(4000);
    inflater
        .decompress_vec(&first.payload, &mut out, FlushDecompress::Sync)
        .unwrap();
    assert_eq!(out, data[..2000]);
}

// ---- the RFC 7692 §7.2.3 examples --------------------------------------------

fn client_receives(p: &mut Pair, bytes: &[u8]) -> Vec<Event> {
    p.client.receive(bytes).unwrap();
    drain(&mut p.client)
}

#[test]
fn rfc7692_examples_decode() {
    let hello = || Event::Text("Hello".into());
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    // §7.2.3.1: one compressed block, then the same message fragmented.
    let single = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(client_receives(&mut p, &single), vec![hello()]);

    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    let fragmented = [
        0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(client_receives(&mut p, &fragmented), vec![hello()]);

    // §7.2.3.2: the second message refers back into the first.
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    let second = [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00];
    assert_eq!(client_receives(&mut p, &single), vec![hello()]);
    assert_eq!(client_receives(&mut p, &second), vec![hello()]);

    // §7.2.3.3: a stored (uncompressed) DEFLATE block.
    let stored = [
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(client_receives(&mut p, &stored), vec![hello()]);

    // §7.2.3.4: BFINAL set; the next message starts a new stream.
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    let bfinal = [0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(client_receives(&mut p, &bfinal), vec![hello()]);
    assert_eq!(client_receives(&mut p, &bfinal), vec![hello()]);
    assert_eq!(client_receives(&mut p, &single), vec![hello()]);

    // §7.2.3.5: two blocks in one message.
    let two_blocks = [
        0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(client_receives(&mut p, &two_blocks), vec![hello()]);

    // §7.2.3.6: an empty final fragment is the byte 0x00.
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    let mut flushed = vec![0x41, 0x0b];
    flushed.extend_from_slice(&[
        0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff,
    ]);
    flushed.extend_from_slice(&[0x80, 0x01, 0x00]);
    assert_eq!(client_receives(&mut p, &flushed), vec![hello()]);
}

#[test]
fn our_output_matches_the_rfc_examples() {
    // "Hello" is the fixed-Huffman block of §7.2.3.1 at every level; the
    // repeat is §7.2.3.2's back-reference at levels 2 and up. Level 1's
    // "quick" encoder writes the same reference a byte shorter.
    let first = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    for level in [1, 6, 9] {
        let config = DeflateConfig::default()
            .with_compress_threshold(0)
            .with_level(level);
        let mut p = pair(config.clone(), config);
        p.server.send_text("Hello").unwrap();
        assert_eq!(&p.server.take_outgoing()[..], &first, "level {level}");
        p.server.send_text("Hello").unwrap();
        let second = p.server.take_outgoing();
        if level == 1 {
            assert_eq!(&second[..], &[0xc1, 0x04, 0x02, 0x13, 0x00, 0x00]);
        } else {
            let rfc = [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00];
            assert_eq!(&second[..], &rfc, "level {level}");
        }
        p.client.receive(&first).unwrap();
        p.client.receive(&second).unwrap();
        assert_eq!(drain(&mut p.client), vec![Event::Text("Hello".into()); 2]);
    }
}

// ---- limits and errors -----------------------------------------------------------

/// Raw DEFLATE of `total` zero bytes, sync-flushed with the tail cut,
/// compressed a MiB at a time so the input never exists whole.
fn zeros_bomb(total: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut deflater = zlib_rs::Deflate::new(6, false, 15);
    let mut compressed = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut fed = 0;
    while fed < total {
        let chunk = &zeros[..(total - fed).min(zeros.len())];
        let mut rest = chunk;
        let last = fed + chunk.len() == total;
        loop {
            let flush = if last {
                zlib_rs::DeflateFlush::SyncFlush
            } else {
                zlib_rs::DeflateFlush::NoFlush
            };
            let (in0, out0) = (deflater.total_in(), deflater.total_out());
            deflater.compress(rest, &mut buf, flush).unwrap();
            rest = &rest[(deflater.total_in() - in0) as usize..];
            let written = (deflater.total_out() - out0) as usize;
            compressed.extend_from_slice(&buf[..written]);
            if rest.is_empty() && written < buf.len() {
                break;
            }
        }
        fed += chunk.len();
    }
    assert!(compressed.ends_with(&TAIL));
    compressed.truncate(compressed.len() - 4);
    compressed
}

#[test]
fn a_deflate_bomb_is_refused_quickly_with_1009() {
    let bomb = zeros_bomb(1 << 30);
    assert!(
        bomb.len() < 2 << 20,
        "1 GiB of zeros is ~1 MiB compressed: {}",
        bomb.len()
    );
    let config = Config::default()
        .with_max_message_size(64 << 20)
        .with_max_frame_size(4 << 20);
    let mut p = pair_with(config, DeflateConfig::default(), DeflateConfig::default());
    let wire = frame(Opcode::Binary, Rsv::RSV1, true, &bomb, true);
    p.server.receive(&wire).unwrap();
    let started = Instant::now();
    let err = poll_error(&mut p.server);
    let elapsed = started.elapsed();
    assert_eq!(err.code, CloseCode::MESSAGE_TOO_BIG);
    // 64 MiB of inflating, not 1 GiB; generous for slow CI machines.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // The close frame is queued.
    let sent = parse_frames(&p.server.take_outgoing());
    assert_eq!(sent[0].opcode, Opcode::Close);
    assert_eq!(&sent[0].payload[..2], &1009u16.to_be_bytes());
}

#[test]
fn the_budget_spans_all_frames_of_a_message() {
    // Each frame inflates to 1 MiB; 2.5 MiB allowed: the third frame fails.
    let mut compress = Compress::new(Compression::new(6), false);
    let zeros = vec![0u8; 1 << 20];
    let mut frames = Vec::new();
    for i in 0..4 {
        let mut out = Vec::with_capacity(1 << 16);
        compress
            .compress_vec(&zeros, &mut out, FlushCompress::Sync)
            .unwrap();
        let payload = if i == 3 {
            &out[..out.len() - 4]
        } else {
            &out[..]
        };
        let (opcode, rsv) = if i == 0 {
            (Opcode::Binary, Rsv::RSV1)
        } else {
            (Opcode::Continuation, Rsv::NONE)
        };
        frames.push(frame(opcode, rsv, i == 3, payload, true));
    }
    for mode in [MessageMode::Whole, MessageMode::Streaming] {
        let config = Config::default()
            .with_max_message_size(5 << 19)
            .with_message_mode(mode);
        let mut p = pair_with(config, DeflateConfig::default(), DeflateConfig::default());
        p.server.receive(&frames.concat()).unwrap();
        assert_eq!(poll_error(&mut p.server).code, CloseCode::MESSAGE_TOO_BIG);
    }
    // Exactly at the limit is fine.
    let config = Config::default().with_max_message_size(4 << 20);
    let mut p = pair_with(config, DeflateConfig::default(), DeflateConfig::default());
    p.server.receive(&frames.concat()).unwrap();
    assert_eq!(
        drain(&mut p.server),
        vec![Event::Binary(vec![0u8; 4 << 20].into())]
    );
}

#[test]
fn corrupt_data_fails_with_1007() {
    let corrupt: &[&[u8]] = &[
        // BTYPE 11 is reserved.
        &[0xff, 0xff],
        // A stored block whose NLEN is not LEN's complement.
        &[0x00, 0x05, 0x00, 0x00, 0x00, b'H', b'e', b'l', b'l', b'o'],
        // §7.2.3.2's second message, which refers back into a first
        // message that never came: a distance before the stream's start.
        &[0xf2, 0x00, 0x11, 0x00, 0x00],
    ];
    for payload in corrupt {
        let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
        p.server
            .receive(&frame(Opcode::Binary, Rsv::RSV1, true, payload, true))
            .unwrap();
        let err = poll_error(&mut p.server);
        assert_eq!(
            err.code,
            CloseCode::INVALID_FRAME_PAYLOAD_DATA,
            "{payload:x?}: {err}"
        );
        let sent = parse_frames(&p.server.take_outgoing());
        assert_eq!(&sent[0].payload[..2], &1007u16.to_be_bytes());
        // Nothing more is decoded.
        p.server
            .receive(&frame(Opcode::Binary, Rsv::NONE, true, b"x", true))
            .unwrap();
        assert_eq!(p.server.poll_event(), Ok(None));
    }
    // Valid DEFLATE of invalid UTF-8 in a text message: 1007 as well.
    let mut compress = Compress::new(Compression::new(6), false);
    let mut out = Vec::with_capacity(64);
    compress
        .compress_vec(&[0xff, 0xfe, 0xfd], &mut out, FlushCompress::Sync)
        .unwrap();
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    p.server
        .receive(&frame(
            Opcode::Text,
            Rsv::RSV1,
            true,
            &out[..out.len() - 4],
            true,
        ))
        .unwrap();
    assert_eq!(
        poll_error(&mut p.server).code,
        CloseCode::INVALID_FRAME_PAYLOAD_DATA
    );
}

#[test]
fn rsv1_where_it_does_not_belong_fails_with_1002() {
    let mut compress = Compress::new(Compression::new(6), false);
    let mut part = Vec::with_capacity(64);
    compress
        .compress_vec(b"Hello", &mut part, FlushCompress::Sync)
        .unwrap();
    // On a continuation frame.
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    let mut wire = frame(Opcode::Binary, Rsv::RSV1, false, &part, true);
    wire.extend(frame(Opcode::Continuation, Rsv::RSV1, true, &[0x00], true));
    p.server.receive(&wire).unwrap();
    assert_eq!(poll_error(&mut p.server).code, CloseCode::PROTOCOL_ERROR);
    // On a control frame.
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    p.server
        .receive(&frame(Opcode::Ping, Rsv::RSV1, true, b"", true))
        .unwrap();
    assert_eq!(poll_error(&mut p.server).code, CloseCode::PROTOCOL_ERROR);
    // When permessage-deflate was not negotiated.
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    server
        .receive(&frame(Opcode::Binary, Rsv::RSV1, true, &part, true))
        .unwrap();
    assert_eq!(poll_error(&mut server).code, CloseCode::PROTOCOL_ERROR);
    // RSV2 and RSV3 are not permessage-deflate's.
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    p.server
        .receive(&frame(
            Opcode::Binary,
            Rsv::RSV1.union(Rsv::RSV2),
            true,
            &part,
            true,
        ))
        .unwrap();
    assert_eq!(poll_error(&mut p.server).code, CloseCode::PROTOCOL_ERROR);
}

// ---- interop with miniz_oxide -----------------------------------------------------------

#[test]
fn miniz_inflates_our_messages() {
    for nct in [false, true] {
        let config = DeflateConfig::default()
            .with_server_no_context_takeover(nct)
            .with_client_no_context_takeover(nct);
        for level in [1, 6] {
            let mut p = pair(
                config.clone().with_level(level),
                config.clone().with_level(level),
            );
            let payloads = text_payloads();
            for (sender, from_client) in [("client", true), ("server", false)] {
                let mut inflater = Decompress::new(false);
                for (i, payload) in payloads.iter().enumerate() {
                    if from_client {
                        p.client.send_binary(payload).unwrap();
                    } else {
                        p.server.send_binary(payload).unwrap();
                    }
                    let wire = if from_client {
                        p.client.take_outgoing()
                    } else {
                        p.server.take_outgoing()
                    };
                    let (rsv, mut body) = messages(&parse_frames(&wire)).remove(0);
                    if rsv != Rsv::RSV1 {
                        assert_eq!(&body, payload);
                        continue;
                    }
                    if nct {
                        inflater = Decompress::new(false);
                    }
                    body.extend_from_slice(&TAIL);
                    let mut out = Vec::with_capacity(payload.len() + 64);
                    inflater
                        .decompress_vec(&body, &mut out, FlushDecompress::Sync)
                        .unwrap_or_else(|e| panic!("{sender} message {i}: {e}"));
                    assert_eq!(&out, payload, "{sender} message {i}");
                }
            }
        }
    }
}

#[test]
fn we_inflate_miniz_messages() {
    let payloads = text_payloads();
    for level in [1, 6, 9] {
        for to_server in [true, false] {
            let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
            let mut compress = Compress::new(Compression::new(level), false);
            for payload in &payloads {
                let mut out = Vec::with_capacity(payload.len() + 128);
                compress
                    .compress_vec(payload, &mut out, FlushCompress::Sync)
                    .unwrap();
                assert!(out.ends_with(&TAIL));
                out.truncate(out.len() - 4);
                let wire = frame(Opcode::Binary, Rsv::RSV1, true, &out, to_server);
                let events = if to_server {
                    p.server.receive(&wire).unwrap();
                    drain(&mut p.server)
                } else {
                    p.client.receive(&wire).unwrap();
                    drain(&mut p.client)
                };
                assert_eq!(events, vec![Event::Binary(payload.clone().into())]);
            }
            // A fragmented message: the first part not flushed at all.
            let data = sample(10000, 8);
            let mut first = Vec::with_capacity(20000);
            compress
                .compress_vec(&data[..6000], &mut first, FlushCompress::None)
                .unwrap();
            let mut last = Vec::with_capacity(20000);
            compress
                .compress_vec(&data[6000..], &mut last, FlushCompress::Sync)
                .unwrap();
            last.truncate(last.len() - 4);
            let mut wire = frame(Opcode::Binary, Rsv::RSV1, false, &first, to_server);
            wire.extend(frame(
                Opcode::Continuation,
                Rsv::NONE,
                true,
                &last,
                to_server,
            ));
            let events = if to_server {
                p.server.receive(&wire).unwrap();
                drain(&mut p.server)
            } else {
                p.client.receive(&wire).unwrap();
                drain(&mut p.client)
            };
            assert_eq!(events, vec![Event::Binary(data.into())]);
        }
    }
}

#[test]
fn whole_and_one_byte_chunked_delivery_agree() {
    // The engine hands the extension whole frames whatever the read size.
    let mut p = pair(DeflateConfig::default(), DeflateConfig::default());
    let data = sample(20000, 11);
    p.client.send_binary(&data).unwrap();
    p.client
        .send_fragment(MessageKind::Binary, &data[..5000], false)
        .unwrap();
    p.client
        .send_fragment(MessageKind::Binary, &data[5000..], true)
        .unwrap();
    let wire = p.client.take_outgoing();
    let mut events = Vec::new();
    for byte in wire.iter() {
        p.server.receive(std::slice::from_ref(byte)).unwrap();
        events.extend(drain(&mut p.server));
    }
    let expected = Event::Binary(data.into());
    assert_eq!(events, vec![expected.clone(), expected]);
}

// ---- bounds that hold with compression ---------------------------------------

/// Text that deflate shrinks only about by half: 16 symbols, no repeats to
/// speak of, so a large message makes a large compressed frame.
fn half_compressible(len: usize) -> String {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (b'a' + (x % 16) as u8) as char
        })
        .collect()
}

#[test]
fn streaming_inflates_a_compressed_frame_as_it_arrives() {
    let config = Config::default().with_message_mode(MessageMode::Streaming);
    let mut p = pair_with(config, DeflateConfig::default(), DeflateConfig::default());
    let text = half_compressible(4 << 20);
    p.client.send_text(&text).unwrap();
    let wire = p.client.take_outgoing();
    assert!(
        wire.len() > 1 << 20,
        "one large compressed frame: {}",
        wire.len()
    );
    const READ: usize = 16 * 1024;
    let mut got = String::new();
    let mut events_before_the_end = 0;
    for (i, piece) in wire.chunks(READ).enumerate() {
        p.server.receive(piece).unwrap();
        while let Some(event) = p.server.poll_event().unwrap() {
            let Event::TextChunk { data, .. } = event else {
                panic!("{event:?}")
            };
            assert!(data.len() <= 64 * 1024, "one event carries at most 64 KiB");
            got.push_str(&data);
            if (i + 1) * READ < wire.len() {
                events_before_the_end += 1;
            }
        }
        // Decoded as it arrives: nothing but a few bytes of the last read
        // waits in the receive buffer.
        let limit = p.server.config().max_receive_buffer;
        let buffered = limit - p.server.receive_capacity();
        assert!(buffered < READ, "{buffered} bytes held after piece {i}");
    }
    assert!(events_before_the_end > 10, "{events_before_the_end}");
    assert_eq!(got, text);
}

#[test]
fn outgoing_limit_counts_what_compression_queues() {
    // Incompressible payloads grow a little under deflate: a send that fits
    // the limit before compression may not fit after it.
    let mut x: u32 = 0x9e37_79b9;
    let noise: Vec<u8> = (0..2000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let limit = 1000;
    for len in 900..1000 {
        let config = Config::default().with_max_outgoing_buffer(limit);
        let mut p = pair_with(config, DeflateConfig::default(), DeflateConfig::default());
        match p.client.send_binary(&noise[..len]) {
            Ok(()) => assert!(
                p.client.outgoing_len() <= limit,
                "{len}: {} queued",
                p.client.outgoing_len()
            ),
            Err(LocalError::OutgoingBufferFull { .. }) => {}
            Err(other) => panic!("{other}"),
        }
        // What was accepted still decodes.
        let wire = p.client.take_outgoing();
        p.server.receive(&wire).unwrap();
        drain(&mut p.server);
    }
}
