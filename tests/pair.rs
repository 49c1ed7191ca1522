//! Client/server scenarios through the [`Pair`] harness. Every scenario runs
//! with whole, 1-byte and random chunking, and with each side as the sender.

mod common;

use std::io::IoSlice;

use bytes::Bytes;
use common::{
    CHUNKINGS, Conn, Pair, Side, binary_payload, each_setup, each_setup_with, parse_frames,
    text_of, text_payload,
};
use wsproto::frame::Opcode;
use wsproto::{
    CloseCode, CloseFrame, Config, Event, LocalError, MessageKind, MessageMode, Open, Server,
};

const SIZES: [usize; 7] = [0, 1, 125, 126, 65535, 65536, 1 << 20];

fn streaming() -> Config {
    Config::default().with_message_mode(MessageMode::Streaming)
}

// ---- data messages ---------------------------------------------------------

#[test]
fn text_and_binary_messages_of_every_length_form() {
    each_setup(|pair, from, to| {
        for &size in &SIZES {
            let text = text_payload(size);
            let binary = binary_payload(size);
            pair.conn(from).send_text(&text).unwrap();
            pair.conn(from).send_binary(&binary).unwrap();
            pair.drive();
            let events = pair.take_events(to);
            assert_eq!(
                events,
                [
                    Event::Text(text.clone().into()),
                    Event::Binary(binary.into())
                ],
                "size {size}"
            );
            assert!(pair.take_events(from).is_empty());
        }
        assert!(pair.errors(to).is_empty() && pair.errors(from).is_empty());
        // One frame per message, in the minimal length form, masked exactly
        // when the client sent it.
        let frames = parse_frames(&pair.observed(to).received);
        assert_eq!(frames.len(), 2 * SIZES.len());
        for frame in &frames {
            assert!(frame.fin);
            assert_eq!(frame.masked, from == Side::Client);
        }
    });
}

#[test]
fn many_small_messages_in_one_batch() {
    each_setup(|pair, from, to| {
        let texts: Vec<String> = (0..200).map(|i| text_payload(i % 40)).collect();
        for text in &texts {
            pair.conn(from).send_text(text).unwrap();
        }
        pair.drive();
        let expected: Vec<Event> = texts
            .iter()
            .map(|t| Event::Text(t.clone().into()))
            .collect();
        assert_eq!(pair.take_events(to), expected);
    });
}

// ---- fragmentation -------------------------------------------------------------

#[test]
fn fragmented_text_split_inside_characters_is_reassembled() {
    let text = "h€llo 😀 wörld";
    let bytes = text.as_bytes();
    // Cuts inside "€" (3 bytes at 1..4) and inside "😀" (4 bytes at 8..12).
    let cuts = [0, 2, 3, 9, 11, bytes.len()];
    each_setup(|pair, from, to| {
        for w in cuts.windows(2) {
            let last = w[1] == bytes.len();
            pair.conn(from)
                .send_fragment(MessageKind::Text, &bytes[w[0]..w[1]], last)
                .unwrap();
        }
        pair.drive();
        assert_eq!(pair.take_events(to), [Event::Text(text.into())]);
        let frames = parse_frames(&pair.observed(to).received);
        let opcodes: Vec<Opcode> = frames.iter().map(|f| f.opcode).collect();
        assert_eq!(
            opcodes,
            [
                Opcode::Text,
                Opcode::Continuation,
                Opcode::Continuation,
                Opcode::Continuation,
                Opcode::Continuation
            ]
        );
        let fins: Vec<bool> = frames.iter().map(|f| f.fin).collect();
        assert_eq!(fins, [false, false, false, false, true]);
    });
}

#[test]
fn fragmented_binary_with_empty_fragments() {
    each_setup(|pair, from, to| {
        let data = binary_payload(70_000);
        let c = pair.conn(from);
        c.send_fragment(MessageKind::Binary, &[], false).unwrap();
        c.send_fragment(MessageKind::Binary, &data[..10], false)
            .unwrap();
        c.send_fragment(MessageKind::Binary, &[], false).unwrap();
        c.send_fragment(MessageKind::Binary, &data[10..], false)
            .unwrap();
        c.send_fragment(MessageKind::Binary, &[], true).unwrap();
        // The next message starts a fresh one.
        c.send_fragment(MessageKind::Text, b"x", true).unwrap();
        pair.drive();
        assert_eq!(
            pair.take_events(to),
            [Event::Binary(data.into()), Event::Text("x".into())]
        );
    });
}

#[test]
fn fragment_misuse_is_a_local_error() {
    each_setup(|pair, from, to| {
        let c = pair.conn(from);
        c.send_fragment(MessageKind::Text, b"ab", false).unwrap();
        assert_eq!(c.send_text("x"), Err(LocalError::MessageInProgress));
        assert_eq!(c.send_binary(b"x"), Err(LocalError::MessageInProgress));
        assert_eq!(
            c.send_fragment(MessageKind::Binary, b"x", true),
            Err(LocalError::FragmentKindMismatch)
        );
        // Control frames may go between fragments.
        c.send_ping(b"between").unwrap();
        c.send_fragment(MessageKind::Text, b"cd", true).unwrap();
        pair.drive();
        assert_eq!(
            pair.take_events(to),
            [
                Event::Ping(Bytes::from_static(b"between")),
                Event::Text("abcd".into())
            ]
        );
    });
}

#[test]
fn pings_inside_a_fragmented_message() {
    each_setup(|pair, from, to| {
        let c = pair.conn(from);
        c.send_fragment(MessageKind::Text, "ü".as_bytes()[..1].as_ref(), false)
            .unwrap();
        c.send_ping(b"p1").unwrap();
        c.send_fragment(MessageKind::Text, &"ü".as_bytes()[1..], false)
            .unwrap();
        c.send_pong(b"unsolicited").unwrap();
        c.send_ping(b"p2").unwrap();
        c.send_fragment(MessageKind::Text, b"!", true).unwrap();
        pair.drive();
        assert_eq!(
            pair.take_events(to),
            [
                Event::Ping(Bytes::from_static(b"p1")),
                Event::Pong(Bytes::from_static(b"unsolicited")),
                Event::Ping(Bytes::from_static(b"p2")),
                Event::Text("ü!".into()),
            ]
        );
        // Each ping gets its own pong, in order.
        assert_eq!(
            pair.take_events(from),
            [
                Event::Pong(Bytes::from_static(b"p1")),
                Event::Pong(Bytes::from_static(b"p2"))
            ]
        );
    });
}

// ---- ping / pong ---------------------------------------------------------------

#[test]
fn auto_pong_answers_every_ping_of_a_burst() {
    // Autobahn 2.10 expects a pong for each of 10 pings sent back to back.
    each_setup(|pair, from, to| {
        for i in 0..10u8 {
            pair.conn(from).send_ping(&[i; 3]).unwrap();
        }
        pair.drive();
        let pings: Vec<Event> = (0..10u8)
            .map(|i| Event::Ping(Bytes::from(vec![i; 3])))
            .collect();
        assert_eq!(pair.take_events(to), pings);
        let pongs: Vec<Event> = (0..10u8)
            .map(|i| Event::Pong(Bytes::from(vec![i; 3])))
            .collect();
        assert_eq!(pair.take_events(from), pongs);
    });
}

#[test]
fn auto_pong_coalesces_when_the_outgoing_buffer_is_full() {
    // With no room left, only the latest ping is answered, once the caller
    // drains the buffer: a ping flood costs bounded memory (§5.5.3 allows it).
    let mut client = wsproto::Open::<wsproto::Client>::new(Config::default(), Vec::new());
    // A 3-byte pong takes 5 bytes on the wire: none fits in 4.
    let mut server = wsproto::Open::<wsproto::Server>::new(
        Config::default().with_max_outgoing_buffer(4),
        Vec::new(),
    );
    for i in 0..10u8 {
        client.send_ping(&[i; 3]).unwrap();
    }
    server.receive(&client.take_outgoing()).unwrap();
    let mut pings = 0;
    while let Some(event) = server.poll_event().unwrap() {
        assert!(matches!(event, Event::Ping(_)));
        pings += 1;
    }
    assert_eq!(pings, 10);
    client.receive(&server.take_outgoing()).unwrap();
    let mut pongs = Vec::new();
    while let Some(event) = client.poll_event().unwrap() {
        pongs.push(event);
    }
    assert_eq!(pongs, [Event::Pong(Bytes::from(vec![9u8; 3]))]);
}

#[test]
fn pending_pong_goes_out_before_later_frames() {
    each_setup(|pair, from, to| {
        pair.conn(from).send_ping(b"x").unwrap();
        pair.transmit(from);
        // The receiver answers with a message before its output is taken:
        // the pong owed for the ping goes first.
        pair.conn(to).send_text("after").unwrap();
        pair.drive();
        assert_eq!(
            pair.take_events(from),
            [
                Event::Pong(Bytes::from_static(b"x")),
                Event::Text("after".into())
            ]
        );
    });
}

#[test]
fn auto_pong_off_leaves_the_answer_to_the_caller() {
    each_setup_with(
        || Config::default().with_auto_pong(false),
        |pair, from, to| {
            pair.conn(from).send_ping(b"hello?").unwrap();
            pair.drive();
            assert_eq!(
                pair.take_events(to),
                [Event::Ping(Bytes::from_static(b"hello?"))]
            );
            assert!(pair.take_events(from).is_empty());
            assert!(pair.observed(from).received.is_empty());
            pair.conn(to).send_pong(b"hello?").unwrap();
            pair.drive();
            assert_eq!(
                pair.take_events(from),
                [Event::Pong(Bytes::from_static(b"hello?"))]
            );
        },
    );
}

#[test]
fn control_payload_over_125_is_a_local_error() {
    each_setup(|pair, from, _| {
        let c = pair.conn(from);
        assert_eq!(
            c.send_ping(&[0; 126]),
            Err(LocalError::ControlPayloadTooLarge(126))
        );
        assert_eq!(
            c.send_pong(&[0; 200]),
            Err(LocalError::ControlPayloadTooLarge(200))
        );
        assert!(c.take_outgoing().is_empty());
    });
}

// ---- close handshake ---------------------------------------------------------------

#[test]
fn close_handshake_initiated_by_either_side() {
    each_setup(|pair, from, to| {
        pair.conn(from).send_text("last words").unwrap();
        pair.conn(from).close(CloseCode::NORMAL, "bye");
        assert!(pair.conn(from).still_closing());
        pair.drive();

        // The receiver saw the message, then the close, and replied at once.
        assert_eq!(
            pair.take_events(to),
            [
                Event::Text("last words".into()),
                Event::Close(CloseFrame::new(CloseCode::NORMAL, "bye")),
            ]
        );
        assert_eq!(
            pair.take_events(from),
            [Event::Close(CloseFrame::new(CloseCode::NORMAL, "bye"))]
        );
        // The reply echoes the code and the reason.
        let reply = parse_frames(&pair.observed(from).received);
        assert_eq!(reply.len(), 1);
        assert_eq!(reply[0].close_code(), Some(1000));
        assert_eq!(&reply[0].payload[2..], b"bye");

        // The receiver's handshake is over while it is still `Open`.
        assert!(pair.conn(to).is_closed());
        assert_eq!(pair.conn(to).send_text("late"), Err(LocalError::Closed));
        pair.conn(to)
            .close(CloseCode::GOING_AWAY, "ignored: reply already sent");
        assert!(pair.conn(to).take_outgoing().is_empty());

        for side in [from, to] {
            let closed = pair.conn(side).finish();
            assert!(closed.was_clean(), "{side:?}: {closed:?}");
            assert!(closed.was_clean());
        }
        assert_eq!(
            pair.conn(to).finish().received(),
            Some(&CloseFrame::new(CloseCode::NORMAL, "bye"))
        );
        assert_eq!(
            pair.conn(from).finish().received().map(|f| f.code),
            Some(CloseCode::NORMAL)
        );
    });
}

#[test]
fn closing_waits_for_the_peer_and_still_receives() {
    for chunking in CHUNKINGS {
        let mut pair = Pair::new(chunking);
        pair.server().send_text("in flight").unwrap();
        let in_flight = pair.conn(Side::Server).take_outgoing();
        let closing = match std::mem::replace(pair.conn(Side::Client), Conn::Moved) {
            Conn::ClientOpen(c) => c.close(CloseCode::NORMAL, ""),
            _ => unreachable!(),
        };
        // Not done before the peer's close arrives: we get it back.
        let mut closing = closing.into_closed().expect_err("not closed yet");
        assert!(!closing.is_closed());
        // A Closing connection still delivers what was in flight.
        closing.receive(&in_flight).unwrap();
        assert_eq!(
            closing.poll_event(),
            Ok(Some(Event::Text("in flight".into())))
        );
        // And it does not answer pings any more: its close is already sent.
        *pair.conn(Side::Client) = Conn::ClientClosing(closing);
        pair.server().send_ping(b"?").unwrap();
        pair.drive();
        assert_eq!(
            pair.take_events(Side::Client),
            [
                Event::Ping(Bytes::from_static(b"?")),
                Event::Close(CloseFrame::new(CloseCode::NORMAL, ""))
            ]
        );
        let to_server = parse_frames(&pair.observed(Side::Server).received);
        assert_eq!(to_server.len(), 1, "{to_server:?}");
        assert!(pair.conn(Side::Client).finish().was_clean());
    }
}

#[test]
fn simultaneous_close() {
    each_setup(|pair, from, to| {
        pair.conn(from).close(CloseCode::NORMAL, "a");
        pair.conn(to).close(CloseCode::GOING_AWAY, "b");
        pair.drive();
        assert_eq!(
            pair.take_events(to),
            [Event::Close(CloseFrame::new(CloseCode::NORMAL, "a"))]
        );
        assert_eq!(
            pair.take_events(from),
            [Event::Close(CloseFrame::new(CloseCode::GOING_AWAY, "b"))]
        );
        // Each side sent exactly one close frame.
        assert_eq!(parse_frames(&pair.observed(to).received).len(), 1);
        assert_eq!(parse_frames(&pair.observed(from).received).len(), 1);
        assert!(pair.conn(from).finish().was_clean());
        assert!(pair.conn(to).finish().was_clean());
    });
}

#[test]
fn auto_close_off_reports_then_close_sends_the_reply() {
    each_setup_with(
        || Config::default().with_auto_close(false),
        |pair, from, to| {
            pair.conn(from).close(CloseCode(4000), "app");
            pair.drive();
            assert_eq!(
                pair.take_events(to),
                [Event::Close(CloseFrame::new(CloseCode(4000), "app"))]
            );
            // Nothing was sent back yet, and only the close may be sent now.
            assert!(pair.observed(from).received.is_empty());
            assert!(!pair.conn(to).is_closed());
            assert_eq!(pair.conn(to).send_text("x"), Err(LocalError::Closed));
            assert_eq!(pair.conn(to).send_ping(b""), Err(LocalError::Closed));
            pair.conn(to).close(CloseCode::NORMAL, "ok");
            pair.drive();
            assert_eq!(
                pair.take_events(from),
                [Event::Close(CloseFrame::new(CloseCode::NORMAL, "ok"))]
            );
            assert!(pair.conn(to).finish().was_clean());
            assert!(pair.conn(from).finish().was_clean());
        },
    );
}

#[test]
fn close_with_a_code_that_may_not_be_sent_sends_an_empty_close() {
    each_setup(|pair, from, to| {
        pair.conn(from).close(CloseCode::NO_STATUS_RCVD, "dropped");
        pair.drive();
        let frames = parse_frames(&pair.observed(to).received);
        assert_eq!(frames.len(), 1);
        assert!(frames[0].payload.is_empty());
        // Reported as 1005; the automatic reply is an empty close too.
        assert_eq!(
            pair.take_events(to),
            [Event::Close(CloseFrame::new(CloseCode::NO_STATUS_RCVD, ""))]
        );
        let reply = parse_frames(&pair.observed(from).received);
        assert_eq!(reply.len(), 1);
        assert!(reply[0].payload.is_empty());
        assert!(pair.conn(from).finish().was_clean());
    });
}

#[test]
fn close_reason_is_cut_at_a_character_boundary() {
    each_setup(|pair, from, to| {
        let reason = "€".repeat(60); // 180 bytes
        pair.conn(from).close(CloseCode::NORMAL, &reason);
        pair.drive();
        let [Event::Close(frame)] = &pair.take_events(to)[..] else {
            panic!("expected one close");
        };
        assert_eq!(frame.reason.len(), 123);
        assert!(reason.starts_with(frame.reason.as_str()));
    });
}

#[test]
fn eof_without_close_is_reported_as_1006() {
    each_setup(|pair, from, to| {
        pair.conn(from).send_text("complete").unwrap();
        pair.drive();
        // Half a message, then the transport ends.
        pair.conn(from)
            .send_fragment(MessageKind::Binary, b"half", false)
            .unwrap();
        let partial = pair.conn(from).take_outgoing();
        pair.deliver(to, &partial[..partial.len() - 2]);
        pair.eof(to);
        assert_eq!(
            pair.take_events(to),
            [
                Event::Text("complete".into()),
                Event::Close(CloseFrame::new(CloseCode::ABNORMAL_CLOSURE, "")),
            ]
        );
        // Nothing more comes, and nothing is sent to a gone transport.
        pair.eof(to);
        pair.deliver(to, &partial);
        assert!(pair.take_events(to).is_empty());
        assert!(pair.conn(to).take_outgoing().is_empty());
        pair.conn(to).close(CloseCode::NORMAL, "");
        let closed = pair.conn(to).finish();
        assert!(!closed.was_clean());
        assert_eq!(
            closed.received().map(|f| f.code),
            Some(CloseCode::ABNORMAL_CLOSURE)
        );
    });
}

#[test]
fn eof_after_close_adds_nothing() {
    each_setup(|pair, from, to| {
        pair.conn(from).close(CloseCode::NORMAL, "");
        pair.drive();
        assert_eq!(pair.take_events(to).len(), 1);
        pair.eof(to);
        pair.eof(from);
        assert!(pair.take_events(to).is_empty());
        assert!(pair.take_events(from).len() == 1);
        assert!(pair.conn(from).finish().was_clean());
    });
}

#[test]
fn sends_after_the_peer_closed_fail_with_closed() {
    each_setup(|pair, from, to| {
        pair.conn(to)
            .send_fragment(MessageKind::Text, b"part", false)
            .unwrap();
        pair.conn(from).close(CloseCode::GOING_AWAY, "");
        pair.drive();
        let c = pair.conn(to);
        assert_eq!(c.send_text("x"), Err(LocalError::Closed));
        assert_eq!(c.send_binary(b"x"), Err(LocalError::Closed));
        assert_eq!(
            c.send_fragment(MessageKind::Text, b"x", true),
            Err(LocalError::Closed)
        );
        assert_eq!(c.send_ping(b"x"), Err(LocalError::Closed));
        assert_eq!(c.send_pong(b"x"), Err(LocalError::Closed));
        assert!(c.take_outgoing().is_empty());
    });
}

// ---- streaming mode --------------------------------------------------------------

/// Checks a streamed message's flags: `frame_finished` exactly `frames`
/// times, `message_finished` only on the last piece.
fn check_stream_flags(events: &[Event], frames: usize) {
    let flags: Vec<(bool, bool)> = events
        .iter()
        .map(|e| match e {
            Event::TextChunk {
                frame_finished,
                message_finished,
                ..
            }
            | Event::BinaryChunk {
                frame_finished,
                message_finished,
                ..
            } => (*frame_finished, *message_finished),
            other => panic!("expected a chunk, got {other:?}"),
        })
        .collect();
    assert_eq!(flags.iter().filter(|f| f.0).count(), frames, "{flags:?}");
    assert_eq!(flags.last().copied(), Some((true, true)));
    assert!(flags[..flags.len() - 1].iter().all(|f| !f.1));
    assert!(flags.iter().all(|&(frame, msg)| frame || !msg));
}

#[test]
fn streaming_text_chunks_are_valid_and_concatenate() {
    let text = text_payload(5000);
    let bytes = text.as_bytes();
    each_setup_with(streaming, |pair, from, to| {
        // Whole, then fragmented with cuts inside characters.
        pair.conn(from).send_text(&text).unwrap();
        pair.drive();
        let events = pair.take_events(to);
        check_stream_flags(&events, 1);
        assert_eq!(text_of(&events), text);
        if pair.chunking == common::Chunking::OneByte {
            // One event per byte received, whatever the character width.
            assert!(events.len() >= text.len() / 4);
        }

        let cuts = [0, 1, 2, 3, 1001, 1002, 4999, 5000];
        for w in cuts.windows(2) {
            pair.conn(from)
                .send_fragment(MessageKind::Text, &bytes[w[0]..w[1]], w[1] == 5000)
                .unwrap();
        }
        pair.drive();
        let events = pair.take_events(to);
        check_stream_flags(&events, cuts.len() - 1);
        assert_eq!(text_of(&events), text);
    });
}

#[test]
fn streaming_binary_chunks_concatenate() {
    let data = binary_payload(70_000);
    each_setup_with(streaming, |pair, from, to| {
        pair.conn(from)
            .send_fragment(MessageKind::Binary, &data[..100], false)
            .unwrap();
        pair.conn(from).send_ping(b"mid").unwrap();
        pair.conn(from)
            .send_fragment(MessageKind::Binary, &data[100..], true)
            .unwrap();
        pair.conn(from).send_binary(b"").unwrap();
        pair.drive();
        let events = pair.take_events(to);
        let ping_at = events
            .iter()
            .position(|e| matches!(e, Event::Ping(_)))
            .expect("ping");
        let (first, rest) = events.split_at(ping_at);
        let (message, empty) = rest[1..].split_at(rest.len() - 2);
        let mut all = first.to_vec();
        all.extend_from_slice(message);
        check_stream_flags(&all, 2);
        let mut got = Vec::new();
        for e in &all {
            if let Event::BinaryChunk { data, .. } = e {
                got.extend_from_slice(data);
            }
        }
        assert_eq!(got, data);
        assert_eq!(
            empty,
            [Event::BinaryChunk {
                data: Bytes::new(),
                frame_finished: true,
                message_finished: true
            }]
        );
    });
}

#[test]
fn streaming_empty_text_message() {
    each_setup_with(streaming, |pair, from, to| {
        pair.conn(from).send_text("").unwrap();
        pair.drive();
        let events = pair.take_events(to);
        check_stream_flags(&events, 1);
        assert_eq!(text_of(&events), "");
    });
}

// ---- zero-copy sends (server only) ----------------------------------------------

fn shared_payloads() -> Vec<Bytes> {
    [0, 10, 4095, 4096, 100_000, 70_000]
        .into_iter()
        .map(|n| Bytes::from(binary_payload(n)))
        .collect()
}

#[test]
fn send_binary_shared_matches_send_binary_on_the_wire() {
    for payload in shared_payloads() {
        let mut copied = Open::<Server>::new(Config::default(), Vec::new());
        let mut shared = Open::<Server>::new(Config::default(), Vec::new());
        copied.send_binary(&payload).unwrap();
        shared.send_binary_shared(payload.clone()).unwrap();
        assert_eq!(copied.take_outgoing(), shared.take_outgoing());
    }
}

/// A server queue mixing staged and shared pieces, and what it must
/// deliver, in order.
fn mixed_server_queue() -> (Open<Server>, Vec<u8>, Vec<Event>) {
    let mut reference = Open::<Server>::new(Config::default(), Vec::new());
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    let payloads = shared_payloads();
    let mut events = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        server.send_text(&format!("before {i}")).unwrap();
        reference.send_text(&format!("before {i}")).unwrap();
        server.send_binary_shared(payload.clone()).unwrap();
        reference.send_binary(payload).unwrap();
        events.push(Event::Text(format!("before {i}").into()));
        events.push(Event::Binary(payload.clone()));
    }
    server.send_ping(b"end").unwrap();
    reference.send_ping(b"end").unwrap();
    events.push(Event::Ping(Bytes::from_static(b"end")));
    (server, reference.take_outgoing().to_vec(), events)
}

#[test]
fn poll_transmit_delivers_in_order() {
    for chunking in CHUNKINGS {
        let (mut server, expected, events) = mixed_server_queue();
        assert_eq!(server.outgoing_len(), expected.len());
        let mut wire = Vec::new();
        // Each piece is non-empty, so this is bounded by the byte count.
        while let Some(piece) = server.poll_transmit() {
            assert!(!piece.is_empty());
            wire.extend_from_slice(&piece);
        }
        assert_eq!(server.outgoing_len(), 0);
        assert_eq!(wire, expected);

        let mut pair = Pair::new(chunking);
        pair.deliver(Side::Client, &wire);
        assert_eq!(pair.take_events(Side::Client), events);
    }
}

#[test]
fn outgoing_slices_and_advance_deliver_in_order_with_partial_writes() {
    for chunking in CHUNKINGS {
        let (mut server, expected, _) = mixed_server_queue();
        let mut rng = common::Rng::new(7);
        let mut wire = Vec::new();
        for _ in 0..expected.len() + 1 {
            if server.outgoing_len() == 0 {
                break;
            }
            // A "transport" that accepts only part of what is offered.
            let mut slots = [IoSlice::new(&[]); 3];
            let n = server.outgoing_slices(&mut slots);
            assert!(n > 0);
            let offered: usize = slots[..n].iter().map(|s| s.len()).sum();
            let write = match chunking {
                common::Chunking::Whole => offered,
                common::Chunking::OneByte => 1,
                common::Chunking::Random(_) => rng.range(1, offered.min(9000)),
            };
            let mut left = write;
            for slot in &slots[..n] {
                let take = left.min(slot.len());
                wire.extend_from_slice(&slot[..take]);
                left -= take;
            }
            server.advance_outgoing(write);
        }
        assert_eq!(server.outgoing_len(), 0);
        assert_eq!(wire, expected, "{chunking:?}");
    }
}

#[test]
fn pending_pong_is_visible_to_outgoing_slices() {
    let mut pair = Pair::new(common::Chunking::Whole);
    pair.client().send_ping(b"p").unwrap();
    pair.transmit(Side::Client);
    let server = pair.server();
    let mut slots = [IoSlice::new(&[]); 2];
    let n = server.outgoing_slices(&mut slots);
    assert_eq!(n, 1);
    let len = slots[0].len();
    assert_eq!(len, 2 + 1);
    server.advance_outgoing(len);
    assert_eq!(server.outgoing_len(), 0);
}

// ---- back-pressure ---------------------------------------------------------------

#[test]
fn max_outgoing_buffer_refuses_sends_until_drained() {
    each_setup_with(
        || Config::default().with_max_outgoing_buffer(1000),
        |pair, from, to| {
            let c = pair.conn(from);
            c.send_binary(&[1; 600]).unwrap();
            let queued = 600 + 4 + if from == Side::Client { 4 } else { 0 };
            assert_eq!(
                c.send_binary(&[2; 600]),
                Err(LocalError::OutgoingBufferFull {
                    queued,
                    limit: 1000
                })
            );
            assert!(matches!(
                c.send_text(&"x".repeat(500)),
                Err(LocalError::OutgoingBufferFull { .. })
            ));
            // A refused send queued nothing.
            assert_eq!(c.take_outgoing().len(), queued);
            c.send_binary(&[3; 600]).unwrap();
            pair.drive();
            assert_eq!(pair.take_events(to), [Event::Binary(vec![3; 600].into())]);
        },
    );
}

#[test]
fn server_send_binary_shared_is_bounded_too() {
    let mut server = Open::<Server>::new(
        Config::default().with_max_outgoing_buffer(10_000),
        Vec::new(),
    );
    server
        .send_binary_shared(Bytes::from(vec![0; 8000]))
        .unwrap();
    assert!(matches!(
        server.send_binary_shared(Bytes::from(vec![0; 8000])),
        Err(LocalError::OutgoingBufferFull { .. })
    ));
}

#[test]
fn ping_right_before_close_still_gets_its_pong() {
    // RFC 6455 §5.5.3: the pong is owed unless a Close was received *before*
    // the ping. Here the ping comes first, in the same batch as the close.
    each_setup(|pair, from, to| {
        pair.conn(from).send_ping(b"still there?").unwrap();
        pair.conn(from).close(CloseCode::NORMAL, "");
        pair.drive();
        assert_eq!(
            pair.take_events(to),
            [
                Event::Ping(Bytes::from_static(b"still there?")),
                Event::Close(CloseFrame::new(CloseCode::NORMAL, "")),
            ]
        );
        // The sender is Closing, but may still receive the pong that comes
        // before the close reply.
        assert_eq!(
            pair.take_events(from),
            [
                Event::Pong(Bytes::from_static(b"still there?")),
                Event::Close(CloseFrame::new(CloseCode::NORMAL, "")),
            ]
        );
    });
    // Without auto_close, the pong goes out ahead of the caller's close.
    each_setup_with(
        || Config::default().with_auto_close(false),
        |pair, from, to| {
            pair.conn(from).send_ping(b"p").unwrap();
            pair.conn(from).close(CloseCode::NORMAL, "");
            pair.drive();
            assert_eq!(pair.take_events(to).len(), 2);
            pair.conn(to).close(CloseCode::NORMAL, "");
            pair.drive();
            assert_eq!(
                pair.take_events(from),
                [
                    Event::Pong(Bytes::from_static(b"p")),
                    Event::Close(CloseFrame::new(CloseCode::NORMAL, "")),
                ]
            );
        },
    );
}

#[test]
fn max_outgoing_buffer_counts_frame_headers() {
    // The limit bounds the bytes the buffer holds, header included: a send
    // that would take it over the limit is refused, one that fills it
    // exactly is accepted.
    for side in Side::BOTH {
        let header = 4 + if side == Side::Client { 4 } else { 0 };
        let mut pair = Pair::with_config(
            common::Chunking::Whole,
            Config::default().with_max_outgoing_buffer(1000),
        );
        let c = pair.conn(side);
        assert!(matches!(
            c.send_binary(&vec![0; 1000 - header + 1]),
            Err(LocalError::OutgoingBufferFull {
                queued: 0,
                limit: 1000
            })
        ));
        c.send_binary(&vec![0; 1000 - header]).unwrap();
        assert_eq!(c.take_outgoing().len(), 1000);
        // Control frames too.
        c.send_binary(&vec![0; 1000 - header - 2]).unwrap();
        assert!(matches!(
            c.send_ping(b"xy"),
            Err(LocalError::OutgoingBufferFull { .. })
        ));
        assert!(c.take_outgoing().len() <= 1000);
    }
    let mut server = Open::<Server>::new(
        Config::default().with_max_outgoing_buffer(10_004),
        Vec::new(),
    );
    assert!(matches!(
        server.send_binary_shared(Bytes::from(vec![0; 10_001])),
        Err(LocalError::OutgoingBufferFull { .. })
    ));
    server
        .send_binary_shared(Bytes::from(vec![0; 10_000]))
        .unwrap();
    assert_eq!(server.outgoing_len(), 10_004);
}

#[test]
fn closing_side_sees_eof_instead_of_a_reply() {
    each_setup(|pair, from, to| {
        pair.conn(from).close(CloseCode::NORMAL, "");
        // The close never reaches the peer: the transport dies first.
        let _lost = pair.conn(from).take_outgoing();
        assert!(pair.conn(from).still_closing());
        pair.eof(from);
        assert_eq!(
            pair.take_events(from),
            [Event::Close(CloseFrame::new(
                CloseCode::ABNORMAL_CLOSURE,
                ""
            ))]
        );
        let closed = pair.conn(from).finish();
        assert!(!closed.was_clean());
        assert!(closed.error().is_none());
        assert!(pair.take_events(to).is_empty());
    });
}

#[test]
fn reading_straight_into_the_receive_buffer() {
    each_setup(|pair, from, to| {
        let text = text_payload(3000);
        pair.conn(from).send_text(&text).unwrap();
        pair.conn(from).send_ping(b"p").unwrap();
        let wire = pair.conn(from).take_outgoing();
        // What tokio's `read_buf` would do: append to the buffer in place.
        let mut events = Vec::new();
        for piece in wire.chunks(1000) {
            match pair.conn(to) {
                Conn::ClientOpen(c) => {
                    c.receive_buffer().unwrap().extend_from_slice(piece);
                    while let Some(e) = c.poll_event().unwrap() {
                        events.push(e);
                    }
                }
                Conn::ServerOpen(c) => {
                    c.receive_buffer().unwrap().extend_from_slice(piece);
                    while let Some(e) = c.poll_event().unwrap() {
                        events.push(e);
                    }
                }
                _ => unreachable!(),
            }
        }
        assert_eq!(
            events,
            [
                Event::Text(text.into()),
                Event::Ping(Bytes::from_static(b"p"))
            ]
        );
    });
}

#[test]
fn pending_pong_goes_out_before_a_shared_payload() {
    for chunking in CHUNKINGS {
        let mut pair = Pair::new(chunking);
        pair.client().send_ping(b"first").unwrap();
        pair.transmit(Side::Client);
        let big = Bytes::from(binary_payload(50_000));
        pair.server().send_binary_shared(big.clone()).unwrap();
        pair.drive();
        assert_eq!(
            pair.take_events(Side::Client),
            [
                Event::Pong(Bytes::from_static(b"first")),
                Event::Binary(big)
            ]
        );
    }
}
