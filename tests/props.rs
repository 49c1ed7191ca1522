//! Property tests: the frame header codec is an identity on every shape,
//! and any sequence of messages crosses a [`Pair`] intact, whatever the
//! chunking.

mod common;

use bytes::Bytes;
use common::{Chunking, Pair, Side};
use proptest::prelude::*;
use wsproto::frame::{FrameHeader, MAX_HEADER_LEN, Opcode, Rsv};
use wsproto::{CloseCode, Config, Event, MessageKind, MessageMode};

// ---- frame headers ------------------------------------------------------------

fn opcode() -> impl Strategy<Value = Opcode> {
    prop_oneof![
        Just(Opcode::Continuation),
        Just(Opcode::Text),
        Just(Opcode::Binary),
        Just(Opcode::Close),
        Just(Opcode::Ping),
        Just(Opcode::Pong),
    ]
}

/// Lengths from each of the three encodings, with their edges.
fn payload_len() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..=125,
        126u64..=65535,
        65536u64..=(u64::MAX >> 1),
        prop::sample::select(vec![0, 125, 126, 127, 65535, 65536, u64::MAX >> 1]),
    ]
}

fn rsv() -> impl Strategy<Value = Rsv> {
    (0u8..8).prop_map(|bits| Rsv::from_first_byte(bits << 4))
}

fn header() -> impl Strategy<Value = FrameHeader> {
    (
        any::<bool>(),
        rsv(),
        opcode(),
        any::<Option<[u8; 4]>>(),
        payload_len(),
    )
        .prop_map(|(fin, rsv, opcode, mask, payload_len)| FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
        })
}

proptest! {
    #[test]
    fn frame_header_encode_then_decode_is_identity(h in header(), trailing in prop::collection::vec(any::<u8>(), 0..8)) {
        let (raw, len) = h.encode();
        prop_assert!(len <= MAX_HEADER_LEN);
        prop_assert_eq!(len, h.encoded_len());
        let mut wire = raw[..len].to_vec();
        wire.extend_from_slice(&trailing);
        let decoded = FrameHeader::decode(&wire);
        // RFC 6455 §5.5: control frames are never fragmented and carry at
        // most 125 bytes; the decoder refuses every other control shape.
        let legal = !h.opcode.is_control() || (h.fin && h.payload_len <= 125);
        if legal {
            prop_assert_eq!(decoded, Ok(Some((h, len))));
            // Every strict prefix asks for more bytes.
            for cut in 0..len {
                prop_assert_eq!(FrameHeader::decode(&wire[..cut]), Ok(None));
            }
        } else {
            prop_assert_eq!(decoded.unwrap_err().close_code(), CloseCode::PROTOCOL_ERROR);
        }
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
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
                cuts.sort_unstable();
                let mut start = 0;
                for cut in cuts {
                    conn.send_fragment(*kind, &data[start..cut], false).unwrap();
                    start = cut;
                }
                conn.send_fragment(*kind, &data[start..], true).unwrap();
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
