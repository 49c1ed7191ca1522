//! Property tests over generated inputs. The wire layer's building blocks:
//! frame headers round-trip and any bytes decode without panicking, masking
//! is position-independent, and the streaming UTF-8 validator agrees with
//! `std::str::from_utf8` however the bytes are split. Only the public API is
//! used, so the SIMD mask and validator are held to the same properties as
//! the scalar ones. And the whole connection: any sequence of messages
//! crosses a [`Pair`] intact, whatever the chunking.

mod common;

use bytes::Bytes;
use common::{Chunking, Pair, Side};
use proptest::prelude::*;
use wsproto::frame::{FrameHeader, MAX_HEADER_LEN, Rsv};
use wsproto::mask::apply_mask;
use wsproto::utf8::{self, Utf8Validator};
use wsproto::{CloseCode, Config, Event, MessageKind, MessageMode, Opcode};

// ---- frame headers, masking, UTF-8 --------------------------------------------

const OPCODES: [Opcode; 6] = [
    Opcode::Continuation,
    Opcode::Text,
    Opcode::Binary,
    Opcode::Close,
    Opcode::Ping,
    Opcode::Pong,
];

/// Every header shape RFC 6455 §5.2 allows: control frames are final and
/// at most 125 bytes; data frames take any 63-bit length, with the lengths
/// around each encoding's boundaries drawn often.
fn valid_header() -> impl Strategy<Value = FrameHeader> {
    let length = prop_oneof![
        0u64..=130,
        65_530u64..=65_540,
        Just((1u64 << 63) - 1),
        0u64..(1 << 63),
    ];
    (
        any::<bool>(),
        0u8..8,
        prop::sample::select(OPCODES.to_vec()),
        any::<Option<[u8; 4]>>(),
        length,
        0u64..=125,
    )
        .prop_map(|(fin, rsv, opcode, mask, data_len, control_len)| {
            let control = opcode.is_control();
            FrameHeader {
                fin: fin || control,
                rsv: Rsv::from_first_byte(rsv << 4),
                opcode,
                mask,
                payload_len: if control { control_len } else { data_len },
            }
        })
}

/// Splits `len` bytes at the given (unsorted, possibly repeated) points.
fn pieces(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.windows(2).map(|w| (w[0], w[1])).collect()
}

proptest! {
    #[test]
    fn header_encode_then_decode_is_identity(
        header in valid_header(),
        trailing in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let (raw, len) = header.encode();
        prop_assert!(len <= MAX_HEADER_LEN);
        prop_assert_eq!(len, header.encoded_len());
        let mut bytes = raw[..len].to_vec();
        bytes.extend_from_slice(&trailing);
        prop_assert_eq!(FrameHeader::decode(&bytes), Ok(Some((header, len))));
        // Every strict prefix only asks for more bytes.
        for cut in 0..len {
            prop_assert_eq!(FrameHeader::decode(&bytes[..cut]), Ok(None));
        }
    }

    #[test]
    fn control_headers_that_break_5_5_fail_with_1002(
        opcode in prop::sample::select(vec![Opcode::Close, Opcode::Ping, Opcode::Pong]),
        fin in any::<bool>(),
        rsv in 0u8..8,
        len in 0u64..70_000,
        mask in any::<Option<[u8; 4]>>(),
    ) {
        prop_assume!(!fin || len > 125);
        let rsv = Rsv::from_first_byte(rsv << 4);
        let header = FrameHeader { fin, rsv, opcode, mask, payload_len: len };
        let (raw, n) = header.encode();
        let err = FrameHeader::decode(&raw[..n]).expect_err("RFC 6455 §5.5 forbids this");
        prop_assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }

    #[test]
    fn reserved_opcodes_fail_with_1002(
        opcode in prop::sample::select(vec![3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]),
        second in any::<u8>(),
    ) {
        let err = FrameHeader::decode(&[0x80 | opcode, second]).expect_err("reserved opcode");
        prop_assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }

    #[test]
    fn frame_header_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..16)) {
        if let Ok(Some((h, len))) = FrameHeader::decode(&bytes) {
            // Whatever decodes re-encodes to the same bytes: there is one
            // encoding per header.
            let (raw, n) = h.encode();
            prop_assert_eq!(&raw[..n], &bytes[..len]);
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole(
        data in prop::collection::vec(any::<u8>(), 0..700),
        key in any::<[u8; 4]>(),
        start in 0usize..64,
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut whole = data.clone();
        apply_mask(&mut whole, key, start);
        // Against the definition (RFC 6455 §5.3): byte i is XORed with
        // key[i mod 4], counting from the payload's start.
        let reference: Vec<u8> = data
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[(start + i) % 4])
            .collect();
        prop_assert_eq!(&whole, &reference);
        let mut split = data.clone();
        for (from, to) in pieces(data.len(), &cuts) {
            apply_mask(&mut split[from..to], key, start + from);
        }
        prop_assert_eq!(&split, &whole);
        // Masking is its own inverse.
        apply_mask(&mut split, key, start);
        prop_assert_eq!(split, data);
    }

    #[test]
    fn streaming_utf8_agrees_with_std(
        bytes in utf8_like(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let expected = std::str::from_utf8(&bytes);
        prop_assert_eq!(utf8::validate(&bytes).is_ok(), expected.is_ok());

        let mut validator = Utf8Validator::default();
        let mut failed = false;
        for (from, to) in pieces(bytes.len(), &cuts) {
            if validator.feed(&bytes[from..to]).is_err() {
                failed = true;
                break;
            }
            // What is pending is exactly the unfinished character at the end
            // of what was fed so far, which must then be a valid prefix.
            let pending = match std::str::from_utf8(&bytes[..to]) {
                Ok(_) => 0,
                Err(e) => {
                    prop_assert!(e.error_len().is_none(), "invalid bytes were accepted");
                    to - e.valid_up_to()
                }
            };
            prop_assert_eq!(validator.pending_len(), pending);
        }
        let streamed_ok = !failed && validator.finish().is_ok();
        prop_assert_eq!(streamed_ok, expected.is_ok());

        // After a reset the validator starts over.
        validator.reset();
        prop_assert_eq!(validator.pending_len(), 0);
        prop_assert!(validator.feed("é".as_bytes()).is_ok());
        prop_assert!(validator.finish().is_ok());
    }
}

/// Mostly-valid UTF-8 with the ways it goes wrong: a stray byte, a
/// truncated character, an overlong form, a surrogate, a code point over
/// U+10FFFF.
fn utf8_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => ".{0,12}".prop_map(String::into_bytes),
        1 => any::<u8>().prop_map(|b| vec![b]),
        1 => Just(vec![0xE2, 0x82]),            // truncated €
        1 => Just(vec![0xC0, 0xAF]),            // overlong '/'
        1 => Just(vec![0xED, 0xA0, 0x80]),      // surrogate U+D800
        1 => Just(vec![0xF4, 0x90, 0x80, 0x80]), // U+110000
        1 => Just(vec![0xF0, 0x9F, 0x98, 0x80]), // 😀
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

// ---- messages through a pair ------------------------------------------------------

#[derive(Debug, Clone)]
enum Send {
    Text(String),
    Binary(Vec<u8>),
    /// A message sent with `send_fragment`, cut at these byte offsets
    /// (possibly inside characters).
    Fragmented(MessageKind, Vec<u8>, Vec<usize>),
    Ping(Vec<u8>),
}

fn send() -> impl Strategy<Value = Send> {
    let text = prop_oneof![
        "[a-z]{0,40}",
        "\\PC{0,300}",
        prop::collection::vec(any::<char>(), 0..50).prop_map(|c| c.into_iter().collect()),
    ];
    let bytes = prop::collection::vec(any::<u8>(), 0..600);
    prop_oneof![
        text.clone().prop_map(Send::Text),
        bytes.clone().prop_map(Send::Binary),
        (text, prop::collection::vec(any::<usize>(), 0..6)).prop_map(|(t, cuts)| Send::Fragmented(
            MessageKind::Text,
            t.into_bytes(),
            cuts
        )),
        (bytes, prop::collection::vec(any::<usize>(), 0..6))
            .prop_map(|(b, cuts)| Send::Fragmented(MessageKind::Binary, b, cuts)),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Send::Ping),
    ]
}

/// What the receiver must see: whole messages and pings.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

fn expected(sends: &[Send]) -> Vec<Seen> {
    sends
        .iter()
        .map(|s| match s {
            Send::Text(t) => Seen::Text(t.clone()),
            Send::Binary(b) | Send::Fragmented(MessageKind::Binary, b, _) => {
                Seen::Binary(b.clone())
            }
            Send::Fragmented(MessageKind::Text, b, _) => {
                Seen::Text(String::from_utf8(b.clone()).unwrap())
            }
            Send::Ping(p) => Seen::Ping(p.clone()),
        })
        .collect()
}

/// Folds events (whole or streamed) back into messages; checks the streamed
/// flags on the way.
fn reassemble(events: Vec<Event>) -> Vec<Seen> {
    let mut seen = Vec::new();
    let mut text = String::new();
    let mut binary = Vec::new();
    for event in events {
        match event {
            Event::Text(t) => seen.push(Seen::Text(t.to_string())),
            Event::Binary(b) => seen.push(Seen::Binary(b.to_vec())),
            Event::Ping(p) => seen.push(Seen::Ping(p.to_vec())),
            Event::TextChunk {
                data,
                frame_finished,
                message_finished,
            } => {
                assert!(frame_finished || !message_finished);
                text.push_str(&data);
                if message_finished {
                    seen.push(Seen::Text(std::mem::take(&mut text)));
                }
            }
            Event::BinaryChunk {
                data,
                frame_finished,
                message_finished,
            } => {
                assert!(frame_finished || !message_finished);
                binary.extend_from_slice(&data);
                if message_finished {
                    seen.push(Seen::Binary(std::mem::take(&mut binary)));
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(text.is_empty() && binary.is_empty(), "unfinished message");
    seen
}

fn run_sends(pair: &mut Pair, from: Side, sends: &[Send]) {
    let conn = pair.conn(from);
    for s in sends {
        match s {
            Send::Text(t) => conn.send_text(t).unwrap(),
            Send::Binary(b) => conn.send_binary(b).unwrap(),
            Send::Ping(p) => conn.send_ping(p).unwrap(),
            Send::Fragmented(kind, data, cuts) => {
                let pieces = pieces(data.len(), cuts);
                let last = pieces.len() - 1;
                for (i, (from, to)) in pieces.into_iter().enumerate() {
                    conn.send_fragment(*kind, &data[from..to], i == last)
                        .unwrap();
                }
            }
        }
    }
}

fn chunking() -> impl Strategy<Value = Chunking> {
    prop_oneof![
        1 => Just(Chunking::Whole),
        1 => Just(Chunking::OneByte),
        4 => any::<u64>().prop_map(Chunking::Random),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn message_sequences_arrive_intact(
        sends in prop::collection::vec(send(), 0..12),
        chunking in chunking(),
        from_client in any::<bool>(),
        streaming in any::<bool>(),
        close in any::<bool>(),
    ) {
        let mode = if streaming { MessageMode::Streaming } else { MessageMode::Whole };
        let mut pair = Pair::with_config(chunking, Config::default().with_message_mode(mode));
        let from = if from_client { Side::Client } else { Side::Server };
        let to = from.peer();
        run_sends(&mut pair, from, &sends);
        if close {
            pair.conn(from).close(CloseCode::NORMAL, "done");
        }
        pair.drive();

        prop_assert!(pair.errors(to).is_empty(), "{:?}", pair.errors(to));
        prop_assert!(pair.errors(from).is_empty(), "{:?}", pair.errors(from));
        let mut events = pair.take_events(to);
        if close {
            let last = events.pop();
            prop_assert!(matches!(last, Some(Event::Close(ref f)) if f.code == CloseCode::NORMAL));
        }
        prop_assert_eq!(reassemble(events), expected(&sends));

        // The sender gets a pong for each of its pings, in order, before its
        // close (if any) was answered.
        let mut back = pair.take_events(from);
        if close {
            prop_assert!(matches!(back.pop(), Some(Event::Close(_))));
            prop_assert!(pair.conn(from).finish().was_clean());
        }
        let pongs: Vec<Event> = sends
            .iter()
            .filter_map(|s| match s {
                Send::Ping(p) => Some(Event::Pong(Bytes::from(p.clone()))),
                _ => None,
            })
            .collect();
        prop_assert_eq!(back, pongs);
    }
}

// ---- borrowed events ------------------------------------------------------------

/// The events of `server` polled to the end, each turned into its owned
/// form (borrowed ones copied), with the error that ended it, if any, and
/// the receive capacity seen after each poll.
fn poll_all(
    server: &mut wsproto::Open<wsproto::Server>,
    borrowed: bool,
) -> (Vec<Event>, Option<wsproto::ProtocolError>, Vec<usize>) {
    let mut events = Vec::new();
    let mut capacity = Vec::new();
    loop {
        let polled = if borrowed {
            server
                .poll_event_ref()
                .map(|event| event.map(wsproto::EventRef::into_owned))
        } else {
            server.poll_event()
        };
        capacity.push(server.receive_capacity());
        match polled {
            Ok(Some(event)) => events.push(event),
            Ok(None) => return (events, None, capacity),
            Err(err) => return (events, Some(err), capacity),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `poll_event_ref` is `poll_event` with some payloads borrowed: the
    /// same events (once owned), errors, capacity and outgoing bytes, for
    /// any messages, chunking, message mode and corruption of the input.
    #[test]
    fn borrowed_events_match_owned_events(
        sends in prop::collection::vec(send(), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        mode in 0..3u8,
        corrupt in prop::option::of((any::<usize>(), any::<u8>())),
        small_buffer in any::<bool>(),
    ) {
        let mut client = wsproto::Open::<wsproto::Client>::new(Config::default(), Vec::new());
        for s in &sends {
            match s {
                Send::Text(t) => client.send_text(t).unwrap(),
                Send::Binary(b) => client.send_binary(b).unwrap(),
                Send::Ping(p) => client.send_ping(p).unwrap(),
                Send::Fragmented(kind, data, cuts) => {
                    let pieces = pieces(data.len(), cuts);
                    let last = pieces.len() - 1;
                    for (i, (from, to)) in pieces.into_iter().enumerate() {
                        client.send_fragment(*kind, &data[from..to], i == last).unwrap();
                    }
                }
            }
        }
        let mut wire = client.take_outgoing().to_vec();
        if let Some((at, byte)) = corrupt
            && !wire.is_empty()
        {
            let at = at % wire.len();
            wire[at] ^= byte;
        }
        let mode = [MessageMode::Whole, MessageMode::Streaming, MessageMode::Frames][mode as usize];
        let mut config = Config::default().with_message_mode(mode);
        if small_buffer {
            config = config.with_max_receive_buffer(64);
        }
        let mut owned = wsproto::Open::<wsproto::Server>::new(config.clone(), Vec::new());
        let mut borrowed = wsproto::Open::<wsproto::Server>::new(config, Vec::new());
        let (mut seen_owned, mut seen_borrowed) = (Vec::new(), Vec::new());
        for (from, to) in pieces(wire.len(), &cuts) {
            let mut at = from;
            // Feed what each will take; both must take the same.
            while at < to {
                let room = owned.receive_capacity();
                prop_assert_eq!(room, borrowed.receive_capacity());
                let end = to.min(at.saturating_add(room.max(1)));
                let a = owned.receive(&wire[at..end]);
                let b = borrowed.receive(&wire[at..end]);
                prop_assert_eq!(a.is_ok(), b.is_ok());
                at = end;
                let (ea, xa, ca) = poll_all(&mut owned, false);
                let (eb, xb, cb) = poll_all(&mut borrowed, true);
                prop_assert_eq!(&ea, &eb);
                prop_assert_eq!(&xa, &xb);
                prop_assert_eq!(ca, cb);
                seen_owned.extend(ea);
                seen_borrowed.extend(eb);
                if xa.is_some() || a.is_err() {
                    at = to;
                }
            }
        }
        prop_assert_eq!(seen_owned, seen_borrowed);
        prop_assert_eq!(owned.take_outgoing(), borrowed.take_outgoing());
    }
}

// ---- large frames across reads -------------------------------------------------

/// One client frame per message, masked, and what the server must report.
fn masked_messages(messages: &[(usize, bool)]) -> (Vec<u8>, Vec<Seen>) {
    let mut wire = Vec::new();
    let mut seen = Vec::new();
    for (i, &(len, text)) in messages.iter().enumerate() {
        let payload: Vec<u8> = if text {
            (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect()
        } else {
            (0..len).map(|j| (j * 31 + i * 7) as u8).collect()
        };
        let key = [0x37, 0xfa, 0x21, i as u8];
        let header = FrameHeader {
            fin: true,
            rsv: Rsv::NONE,
            opcode: if text { Opcode::Text } else { Opcode::Binary },
            mask: Some(key),
            payload_len: len as u64,
        };
        let (raw, header_len) = header.encode();
        wire.extend_from_slice(&raw[..header_len]);
        let start = wire.len();
        wire.extend_from_slice(&payload);
        apply_mask(&mut wire[start..], key, 0);
        seen.push(if text {
            Seen::Text(String::from_utf8(payload).unwrap())
        } else {
            Seen::Binary(payload)
        });
    }
    (wire, seen)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Large frames cut anywhere by reads of any size: the receive path that
    /// unmasks as it copies and starts a frame in a buffer of its own
    /// (`Inbound::next`) hands out every payload intact, through `receive`
    /// or `receive_buffer`, with owned or borrowed events; and payloads kept
    /// to the end are never overwritten when a buffer is reused.
    #[test]
    fn large_frames_across_reads_arrive_intact(
        messages in prop::collection::vec(
            (prop_oneof![0usize..300, 4_000usize..150_000], any::<bool>()),
            1..8,
        ),
        reads in prop::collection::vec(1usize..140_000, 1..6),
        direct in any::<bool>(),
        borrowed in any::<bool>(),
        keep in any::<bool>(),
    ) {
        let (wire, want) = masked_messages(&messages);
        let mut ws = wsproto::Open::<wsproto::Server>::new(Config::default(), Vec::new());
        let mut got = Vec::new();
        let mut kept = Vec::new();
        let mut at = 0;
        for read in reads.iter().cycle() {
            if at == wire.len() {
                break;
            }
            let piece = &wire[at..(at + read).min(wire.len())];
            at += piece.len();
            if direct {
                ws.receive_buffer().unwrap().extend_from_slice(piece);
            } else {
                ws.receive(piece).unwrap();
            }
            loop {
                if borrowed {
                    match ws.poll_event_ref().unwrap() {
                        None => break,
                        Some(wsproto::EventRef::Text(t)) => got.push(Seen::Text(t.to_owned())),
                        Some(wsproto::EventRef::Binary(b)) => got.push(Seen::Binary(b.to_vec())),
                        Some(wsproto::EventRef::Owned(event)) => got.extend(reassemble(vec![event])),
                    }
                } else {
                    let Some(event) = ws.poll_event().unwrap() else { break };
                    if keep {
                        kept.push(event.clone());
                    }
                    got.extend(reassemble(vec![event]));
                }
            }
        }
        prop_assert_eq!(&got, &want);
        if keep && !borrowed {
            prop_assert_eq!(reassemble(kept), want);
        }
    }
}
