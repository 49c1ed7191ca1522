//! Every MUST of RFC 6455 a receiver enforces, as a table of hand-built raw
//! frames fed to a server and to a client. Each failure is checked twice:
//! the returned `ProtocolError.code`, and the close frame actually queued
//! for the peer (decoded from the outgoing bytes).

mod common;

use bytes::Bytes;
use common::{CLIENT_KEY, Chunking, FrameBuilder, Rng, close_payload, parse_frames, split};
use wsproto::frame::Opcode;
use wsproto::{
    Client, CloseCode, CloseFrame, Config, Event, FixedKey, MessageMode, Open, ProtocolError, Role,
    Server,
};

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONT: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

const PROTOCOL_ERROR: u16 = 1002;
const INVALID_DATA: u16 = 1007;
const TOO_BIG: u16 = 1009;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Server,
    Client,
}

/// How much of the input to feed.
#[derive(Debug, Clone, Copy)]
enum Feed {
    /// Every byte.
    All,
    /// Only the header of the last frame (its payload never arrives).
    HeaderOfLast,
    /// Only the first `n` bytes of the last frame.
    FirstOfLast(usize),
}

/// Frames as one role sends them: masked towards a server, unmasked
/// towards a client.
fn wire_for(who: Who, frames: &[FrameBuilder], feed: Feed) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let frame = if who == Who::Server && frame.mask.is_none() {
            frame.clone().masked()
        } else {
            frame.clone()
        };
        let mut bytes = frame.build();
        if i == frames.len() - 1 {
            match feed {
                Feed::All => {}
                Feed::HeaderOfLast => bytes.truncate(frame.header().len()),
                Feed::FirstOfLast(n) => bytes.truncate(n),
            }
        }
        out.extend_from_slice(&bytes);
    }
    out
}

/// What feeding some input did to a connection.
#[derive(Debug)]
struct Outcome {
    events: Vec<Event>,
    error: Option<ProtocolError>,
    /// Everything queued for the peer.
    outgoing: Bytes,
}

/// A connection of either role, for table tests.
trait Probe {
    fn feed(&mut self, input: &[u8], chunking: Chunking) -> Outcome;
}

impl<R: Role> Probe for Open<R> {
    fn feed(&mut self, input: &[u8], chunking: Chunking) -> Outcome {
        let mut events = Vec::new();
        let mut error = None;
        let mut rng = Rng::new(99);
        for piece in split(input, chunking, &mut rng) {
            self.receive(piece).unwrap();
            // Bounded: every event consumes input or ends the stream.
            for _ in 0..input.len() + 2 {
                match self.poll_event() {
                    Ok(Some(event)) => {
                        assert!(error.is_none(), "event after the failure: {event:?}");
                        events.push(event);
                    }
                    Ok(None) => break,
                    Err(err) => {
                        assert!(error.is_none(), "second error: {err:?}");
                        error = Some(err);
                    }
                }
            }
        }
        Outcome {
            events,
            error,
            outgoing: self.take_outgoing(),
        }
    }
}

fn connection(who: Who, config: Config) -> Box<dyn Probe> {
    match who {
        Who::Server => Box::new(Open::<Server>::new(config, Vec::new())),
        Who::Client => {
            let mut client = Open::<Client>::new(config, Vec::new());
            client.set_mask_source(Box::new(FixedKey(CLIENT_KEY)));
            Box::new(client)
        }
    }
}

/// Feeds `input` to a fresh connection and checks it fails with `code`:
/// the error, the queued close frame, and silence afterwards.
fn expect_failure(who: Who, config: &Config, input: &[u8], code: u16, name: &str) {
    for chunking in [Chunking::Whole, Chunking::OneByte, Chunking::Random(5)] {
        let ctx = format!("{name} ({who:?}, {chunking:?})");
        let mut conn = connection(who, config.clone());
        let outcome = conn.feed(input, chunking);
        let err = outcome
            .error
            .unwrap_or_else(|| panic!("{ctx}: no error; events {:?}", outcome.events));
        assert_eq!(err.code, CloseCode(code), "{ctx}: {err}");
        // Pongs for pings that came before the fault may precede the close.
        let frames = parse_frames(&outcome.outgoing);
        let (close, before) = frames.split_last().expect("a close frame is queued");
        assert!(
            before.iter().all(|f| f.opcode == Opcode::Pong),
            "{ctx}: {frames:?}"
        );
        assert_eq!(close.opcode, Opcode::Close, "{ctx}");
        assert_eq!(close.close_code(), Some(code), "{ctx}");
        assert_eq!(close.masked, who == Who::Client, "{ctx}");
        assert_eq!(&close.payload[2..], err.reason.as_bytes(), "{ctx}");

        // The connection has failed: more input, even valid, is ignored.
        let later = wire_for(who, &[FrameBuilder::new(TEXT, b"later")], Feed::All);
        let after = conn.feed(&later, Chunking::Whole);
        assert!(after.events.is_empty(), "{ctx}: {after:?}");
        assert!(after.error.is_none(), "{ctx}: {after:?}");
        assert!(after.outgoing.is_empty(), "{ctx}: {after:?}");
    }
}

struct Case {
    name: &'static str,
    frames: Vec<FrameBuilder>,
    feed: Feed,
    code: u16,
}

fn case(name: &'static str, frames: Vec<FrameBuilder>, feed: Feed, code: u16) -> Case {
    Case {
        name,
        frames,
        feed,
        code,
    }
}

fn f(opcode: u8, payload: &[u8]) -> FrameBuilder {
    FrameBuilder::new(opcode, payload)
}

/// The cases that apply to both roles.
fn both_roles() -> Vec<Case> {
    let mut cases = vec![
        // §5.2: "the most significant bit MUST be 0".
        case(
            "64-bit length with the MSB set",
            vec![f(BINARY, b"").declared_len(1 << 63)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "64-bit length all ones",
            vec![f(BINARY, b"").declared_len(u64::MAX)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        // §5.2: "the minimal number of bytes MUST be used to encode the length".
        case(
            "non-minimal 16-bit length 125",
            vec![f(BINARY, &[7; 125]).length_form(16)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "non-minimal 16-bit length 0",
            vec![f(BINARY, b"").length_form(16)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "non-minimal 64-bit length 65535",
            vec![f(BINARY, &[7; 65535]).length_form(64)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "non-minimal 64-bit length 126",
            vec![f(TEXT, &[b'a'; 126]).length_form(64)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "non-minimal 64-bit length 0",
            vec![f(TEXT, b"").length_form(64)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        // §5.5: control frames "MUST NOT be fragmented".
        case(
            "fragmented ping",
            vec![f(PING, b"x").fin(false)],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        case(
            "fragmented pong",
            vec![f(PONG, b"").fin(false)],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        case(
            "fragmented close",
            vec![f(CLOSE, &close_payload(1000, b"")).fin(false)],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        // §5.5: "All control frames MUST have a payload length of 125 bytes
        // or less" -- decided from the first two bytes alone.
        case(
            "ping with payload 126, first two bytes",
            vec![f(PING, &[0; 126])],
            Feed::FirstOfLast(2),
            PROTOCOL_ERROR,
        ),
        case(
            "close with payload 127-form, first two bytes",
            vec![f(CLOSE, &[0; 70_000])],
            Feed::FirstOfLast(2),
            PROTOCOL_ERROR,
        ),
        case(
            "pong with payload 126",
            vec![f(PONG, &[0; 126])],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        // §5.4: a continuation needs a message to continue; a new message
        // may not start inside another.
        case(
            "continuation without a start",
            vec![f(CONT, b"x")],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "continuation after a finished message",
            vec![f(TEXT, b"done"), f(CONT, b"x")],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        case(
            "text while a text message is in progress",
            vec![f(TEXT, b"a").fin(false), f(TEXT, b"b")],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "binary while a text message is in progress",
            vec![f(TEXT, b"a").fin(false), f(PING, b""), f(BINARY, b"b")],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "text while a binary message is in progress",
            vec![
                f(BINARY, b"a").fin(false),
                f(CONT, b"b").fin(false),
                f(TEXT, b"c"),
            ],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        // §5.5.1 / §7.4: the close payload.
        case(
            "1-byte close payload",
            vec![f(CLOSE, &[0x03])],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        case(
            "close reason not UTF-8",
            vec![f(CLOSE, &close_payload(1000, b"bad \xff reason"))],
            Feed::All,
            INVALID_DATA,
        ),
        case(
            "close reason with a truncated character",
            vec![f(CLOSE, &close_payload(1000, b"\xe2\x82"))],
            Feed::All,
            INVALID_DATA,
        ),
        // §8.1: text must be valid UTF-8.
        case(
            "text ending inside a character",
            vec![f(TEXT, b"abc\xe2\x82")],
            Feed::All,
            INVALID_DATA,
        ),
        case(
            "fragmented text ending inside a character",
            vec![f(TEXT, b"abc").fin(false), f(CONT, b"\xf0\x9f\x98")],
            Feed::All,
            INVALID_DATA,
        ),
        case(
            "fragmented text ending inside a character, empty last frame",
            vec![f(TEXT, b"\xf0\x9f").fin(false), f(CONT, b"")],
            Feed::All,
            INVALID_DATA,
        ),
        // §5.2: RSV bits with no extension.
        case(
            "RSV1 on text",
            vec![f(TEXT, b"x").rsv(0x40)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "RSV2 on binary",
            vec![f(BINARY, b"x").rsv(0x20)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "RSV3 on ping",
            vec![f(PING, b"x").rsv(0x10)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "RSV1 on close",
            vec![f(CLOSE, b"").rsv(0x40)],
            Feed::All,
            PROTOCOL_ERROR,
        ),
        case(
            "RSV1 on a continuation",
            vec![f(TEXT, b"a").fin(false), f(CONT, b"b").rsv(0x40)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
        case(
            "all RSV bits",
            vec![f(BINARY, b"x").rsv(0x70)],
            Feed::HeaderOfLast,
            PROTOCOL_ERROR,
        ),
    ];
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST
    // _Fail the WebSocket Connection_." Decided from the first two bytes.
    for opcode in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        cases.push(case(
            "reserved opcode",
            vec![f(opcode, b"payload")],
            Feed::FirstOfLast(2),
            PROTOCOL_ERROR,
        ));
        cases.push(case(
            "reserved opcode inside a fragmented message",
            vec![f(BINARY, b"a").fin(false), f(opcode, b"")],
            Feed::All,
            PROTOCOL_ERROR,
        ));
    }
    for bad in INVALID_UTF8 {
        cases.push(case(
            "invalid UTF-8 in text",
            vec![f(TEXT, &[b"ok ", *bad, b" tail"].concat())],
            Feed::All,
            INVALID_DATA,
        ));
        cases.push(case(
            "invalid UTF-8 in a continuation",
            vec![f(TEXT, b"ok ").fin(false), f(CONT, &[*bad, b"!"].concat())],
            Feed::All,
            INVALID_DATA,
        ));
    }
    cases
}

/// Byte sequences that can never start valid UTF-8, each decided without
/// seeing what follows.
const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",             // never valid
    b"\xc0\x80",         // overlong NUL
    b"\xe0\x80\x80",     // overlong
    b"\xed\xa0\x80",     // surrogate U+D800
    b"\xf4\x90\x80\x80", // above U+10FFFF
    b"\x80",             // lone continuation byte
    b"\xe2\x82a",        // truncated by an ASCII byte
];

#[test]
fn every_must_fails_with_its_close_code() {
    let config = Config::default();
    for who in [Who::Server, Who::Client] {
        for c in both_roles() {
            let input = wire_for(who, &c.frames, c.feed);
            expect_failure(who, &config, &input, c.code, c.name);
        }
    }
}

#[test]
fn every_must_also_fails_in_streaming_mode() {
    let config = Config::default().with_message_mode(MessageMode::Streaming);
    for who in [Who::Server, Who::Client] {
        for c in both_roles() {
            let input = wire_for(who, &c.frames, c.feed);
            expect_failure(who, &config, &input, c.code, c.name);
        }
    }
}

/// Frame mode (for proxies) reports frames as they arrive but lets no
/// violation through: the same table, the same close codes.
#[test]
fn every_must_also_fails_in_frame_mode() {
    let config = Config::default().with_message_mode(MessageMode::Frames);
    for who in [Who::Server, Who::Client] {
        for c in both_roles() {
            let input = wire_for(who, &c.frames, c.feed);
            expect_failure(who, &config, &input, c.code, c.name);
        }
    }
}

#[test]
fn masking_direction_is_enforced() {
    // §5.1: "The server MUST close the connection upon receiving a frame
    // that is not masked." / "A client MUST close a connection if it
    // detects a masked frame."
    let config = Config::default();
    let unmasked = f(TEXT, b"hello").build();
    let masked = f(TEXT, b"hello").masked();
    expect_failure(
        Who::Server,
        &config,
        &unmasked,
        PROTOCOL_ERROR,
        "unmasked to server",
    );
    expect_failure(
        Who::Server,
        &config,
        &f(PING, b"").build(),
        PROTOCOL_ERROR,
        "unmasked ping to server",
    );
    expect_failure(
        Who::Client,
        &config,
        &masked.header(),
        PROTOCOL_ERROR,
        "masked header to client",
    );
    expect_failure(
        Who::Client,
        &config,
        &f(CLOSE, &close_payload(1000, b"")).masked().build(),
        PROTOCOL_ERROR,
        "masked close to client",
    );
    // A masked frame with an all-zero key is still masked.
    let mut zero_key = f(TEXT, b"hello");
    zero_key.mask = Some([0; 4]);
    expect_failure(
        Who::Client,
        &config,
        &zero_key.build(),
        PROTOCOL_ERROR,
        "zero key",
    );
}

#[test]
fn text_fails_fast_before_the_rest_of_the_frame_arrives() {
    // A header declaring 1000 bytes, then only 10 bytes of payload with an
    // invalid sequence in them: the connection fails now, not after 990
    // more bytes.
    let mut payload = b"abcd\xc3\x28efgh".to_vec();
    assert_eq!(payload.len(), 10);
    payload.resize(1000, b'x');
    for mode in [
        MessageMode::Whole,
        MessageMode::Streaming,
        MessageMode::Frames,
    ] {
        let config = Config::default().with_message_mode(mode);
        for who in [Who::Server, Who::Client] {
            let frames = [f(TEXT, &payload)];
            let header_len = wire_for(who, &frames, Feed::HeaderOfLast).len();
            let input = wire_for(who, &frames, Feed::FirstOfLast(header_len + 10));
            expect_failure(who, &config, &input, INVALID_DATA, "fail fast");
            // Also inside a continuation.
            let frames = [f(TEXT, b"ok").fin(false), f(CONT, &payload)];
            let input = wire_for(who, &frames, Feed::FirstOfLast(header_len + 10));
            expect_failure(
                who,
                &config,
                &input,
                INVALID_DATA,
                "fail fast, continuation",
            );
        }
    }
}

#[test]
fn a_character_split_across_frames_is_fine() {
    let euro = "€".as_bytes();
    let emoji = "😀".as_bytes();
    for mode in [
        MessageMode::Whole,
        MessageMode::Streaming,
        MessageMode::Frames,
    ] {
        for who in [Who::Server, Who::Client] {
            let frames = [
                f(TEXT, &euro[..1]).fin(false),
                f(PING, b""),
                f(CONT, &[&euro[1..], &emoji[..3]].concat()).fin(false),
                f(CONT, b"").fin(false),
                f(CONT, &emoji[3..]),
            ];
            let input = wire_for(who, &frames, Feed::All);
            for chunking in [Chunking::Whole, Chunking::OneByte, Chunking::Random(3)] {
                let mut conn = connection(who, Config::default().with_message_mode(mode));
                let outcome = conn.feed(&input, chunking);
                assert!(outcome.error.is_none(), "{outcome:?}");
                // Frame pieces are bytes: a character may be split
                // between them.
                let bytes: Vec<u8> = outcome
                    .events
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) => Some(t.as_bytes().to_vec()),
                        Event::TextChunk { data, .. } => Some(data.as_bytes().to_vec()),
                        Event::Frame(frame) => Some(frame.data().to_vec()),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                assert_eq!(String::from_utf8(bytes).unwrap(), "€😀");
            }
        }
    }
}

#[test]
fn close_codes_are_classified() {
    // §7.4.1/§7.4.2: 1000-1003, 1007-1014 (IANA) and 3000-4999 may be sent;
    // anything else in a close frame is a protocol error.
    for who in [Who::Server, Who::Client] {
        for code in 0..=u16::MAX {
            let valid = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            // Above 5000 only a sample: the classification is a range check.
            if code > 5000 && code % 97 != 0 && code != u16::MAX {
                continue;
            }
            let input = wire_for(who, &[f(CLOSE, &close_payload(code, b"r"))], Feed::All);
            if !valid {
                expect_close_failure(who, &input, code);
                continue;
            }
            let mut conn = connection(who, Config::default());
            let outcome = conn.feed(&input, Chunking::Whole);
            assert!(outcome.error.is_none(), "{code}: {outcome:?}");
            assert_eq!(
                outcome.events,
                [Event::Close(CloseFrame::new(CloseCode(code), "r"))]
            );
            // The automatic reply echoes the code.
            let reply = parse_frames(&outcome.outgoing);
            assert_eq!(reply.len(), 1);
            assert_eq!(reply[0].close_code(), Some(code));
        }
    }
}

/// A cheaper `expect_failure` for the 60 000 invalid codes: one chunking.
fn expect_close_failure(who: Who, input: &[u8], code: u16) {
    let mut conn = connection(who, Config::default());
    let outcome = conn.feed(input, Chunking::Whole);
    let err = outcome.error.expect("invalid close code accepted");
    assert_eq!(err.code, CloseCode::PROTOCOL_ERROR, "code {code}");
    let frames = parse_frames(&outcome.outgoing);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].close_code(), Some(PROTOCOL_ERROR), "code {code}");
    assert!(outcome.events.is_empty());
}

#[test]
fn empty_close_is_reported_as_1005_and_answered_with_an_empty_close() {
    for who in [Who::Server, Who::Client] {
        let input = wire_for(who, &[f(CLOSE, b"")], Feed::All);
        let mut conn = connection(who, Config::default());
        let outcome = conn.feed(&input, Chunking::OneByte);
        assert_eq!(
            outcome.events,
            [Event::Close(CloseFrame::new(CloseCode::NO_STATUS_RCVD, ""))]
        );
        let reply = parse_frames(&outcome.outgoing);
        assert_eq!(reply.len(), 1);
        assert_eq!(reply[0].opcode, Opcode::Close);
        assert!(reply[0].payload.is_empty());
        assert_eq!(reply[0].masked, who == Who::Client);
    }
}

#[test]
fn frame_over_max_frame_size_fails_from_the_header() {
    let config = Config::default().with_max_frame_size(1000);
    for who in [Who::Server, Who::Client] {
        expect_failure(
            who,
            &config,
            &wire_for(who, &[f(BINARY, &[0; 1001])], Feed::HeaderOfLast),
            TOO_BIG,
            "frame over max_frame_size",
        );
        expect_failure(
            who,
            &config,
            &wire_for(
                who,
                &[f(TEXT, b"").declared_len(1 << 40)],
                Feed::HeaderOfLast,
            ),
            TOO_BIG,
            "huge declared frame",
        );
        expect_failure(
            who,
            &config,
            &wire_for(
                who,
                &[f(TEXT, b"a").fin(false), f(CONT, &[b'a'; 1001])],
                Feed::HeaderOfLast,
            ),
            TOO_BIG,
            "continuation over max_frame_size",
        );
        // Exactly the limit is fine.
        let mut conn = connection(who, config.clone());
        let outcome = conn.feed(
            &wire_for(who, &[f(BINARY, &[0; 1000])], Feed::All),
            Chunking::Whole,
        );
        assert_eq!(outcome.events, [Event::Binary(vec![0; 1000].into())]);
    }
}

#[test]
fn message_over_max_message_size_fails_across_fragments() {
    for mode in [
        MessageMode::Whole,
        MessageMode::Streaming,
        MessageMode::Frames,
    ] {
        let config = Config::default()
            .with_max_message_size(1000)
            .with_message_mode(mode);
        for who in [Who::Server, Who::Client] {
            let frames = [
                f(BINARY, &[1; 400]).fin(false),
                f(PING, b"interleaved"),
                f(CONT, &[2; 400]).fin(false),
                f(CONT, &[3; 201]),
            ];
            expect_failure(
                who,
                &config,
                &wire_for(who, &frames, Feed::HeaderOfLast),
                TOO_BIG,
                "message over max_message_size",
            );
            let frames = [f(TEXT, &[b'a'; 999]).fin(false), f(CONT, b"bc")];
            expect_failure(
                who,
                &config,
                &wire_for(who, &frames, Feed::HeaderOfLast),
                TOO_BIG,
                "text over max_message_size",
            );
            // Exactly the limit, and the count starts over for the next message.
            let frames = [
                f(BINARY, &[1; 400]).fin(false),
                f(CONT, &[2; 600]),
                f(BINARY, &[3; 1000]),
            ];
            let mut conn = connection(who, config.clone());
            let outcome = conn.feed(&wire_for(who, &frames, Feed::All), Chunking::Random(1));
            assert!(outcome.error.is_none(), "{outcome:?}");
            let total: usize = outcome
                .events
                .iter()
                .map(|e| match e {
                    Event::Binary(b) | Event::BinaryChunk { data: b, .. } => b.len(),
                    Event::Frame(frame) => frame.data().len(),
                    other => panic!("{other:?}"),
                })
                .sum();
            assert_eq!(total, 2000);
        }
    }
}

#[test]
fn receive_buffer_grows_with_bytes_received_not_bytes_declared() {
    for mode in [
        MessageMode::Whole,
        MessageMode::Streaming,
        MessageMode::Frames,
    ] {
        let config = Config::default()
            .with_message_mode(mode)
            .with_max_frame_size(u64::MAX >> 1)
            .with_max_message_size(u64::MAX);
        for declared in [16 << 20, 1 << 40, (1 << 63) - 1] {
            let frame = f(BINARY, b"0123456789").declared_len(declared);
            // Server side, so the receive buffer can be inspected by type.
            let mut server = Open::<Server>::new(config.clone(), Vec::new());
            let input = wire_for(Who::Server, std::slice::from_ref(&frame), Feed::All);
            server.receive(&input).unwrap();
            for _ in 0..4 {
                if server.poll_event().unwrap().is_none() {
                    break;
                }
            }
            assert!(
                server.receive_buffer().unwrap().capacity() < 64 * 1024,
                "{mode:?} {declared}: capacity {}",
                server.receive_buffer().unwrap().capacity()
            );
            let mut client = Open::<Client>::new(config.clone(), Vec::new());
            client
                .receive(&wire_for(Who::Client, &[frame], Feed::All))
                .unwrap();
            for _ in 0..4 {
                if client.poll_event().unwrap().is_none() {
                    break;
                }
            }
            assert!(client.receive_buffer().unwrap().capacity() < 64 * 1024);
        }
    }
}

#[test]
fn fragments_do_not_reserve_their_declared_size() {
    // Many fragments declaring large sizes, each cut short by EOF-free
    // silence: memory follows what arrived.
    let config = Config::default().with_max_message_size(u64::MAX);
    let mut server = Open::<Server>::new(config, Vec::new());
    let mut input = wire_for(Who::Server, &[f(BINARY, &[1; 100]).fin(false)], Feed::All);
    input.extend(wire_for(
        Who::Server,
        &[f(CONT, &[0; 100]).declared_len(16 << 20)],
        Feed::FirstOfLast(14 + 100),
    ));
    server.receive(&input).unwrap();
    assert_eq!(server.poll_event(), Ok(None));
    assert!(server.receive_buffer().unwrap().capacity() < 64 * 1024);
}

#[test]
fn eof_mid_frame_is_1006_and_never_an_error() {
    for who in [Who::Server, Who::Client] {
        let input = wire_for(who, &[f(TEXT, b"abcdef")], Feed::FirstOfLast(5));
        let mut conn = connection(who, Config::default());
        let outcome = conn.feed(&input, Chunking::Whole);
        assert!(outcome.events.is_empty() && outcome.error.is_none());
        match who {
            Who::Server => {
                let mut s = Open::<Server>::new(Config::default(), Vec::new());
                s.receive(&input).unwrap();
                s.receive_eof();
                assert_eq!(
                    s.poll_event(),
                    Ok(Some(Event::Close(CloseFrame::new(
                        CloseCode::ABNORMAL_CLOSURE,
                        ""
                    ))))
                );
                assert_eq!(s.poll_event(), Ok(None));
                assert!(s.take_outgoing().is_empty());
            }
            Who::Client => {
                let mut c = Open::<Client>::new(Config::default(), Vec::new());
                c.receive(&input[..1]).unwrap();
                c.receive_eof();
                assert_eq!(
                    c.poll_event(),
                    Ok(Some(Event::Close(CloseFrame::new(
                        CloseCode::ABNORMAL_CLOSURE,
                        ""
                    ))))
                );
                assert_eq!(c.poll_event(), Ok(None));
            }
        }
    }
}

#[test]
fn failure_after_our_close_queues_no_second_close() {
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    server.send_text("x").unwrap();
    let mut closing = server.close(CloseCode::NORMAL, "");
    let sent = parse_frames(&closing.take_outgoing());
    assert_eq!(sent.len(), 2);
    closing.receive(&f(TEXT, b"\xff").masked().build()).unwrap();
    let err = closing.poll_event().unwrap_err();
    assert_eq!(err.code, CloseCode::INVALID_FRAME_PAYLOAD_DATA);
    assert!(closing.take_outgoing().is_empty());
    let closed = closing
        .into_closed()
        .expect("failed connections are closed");
    assert!(!closed.was_clean());
    assert_eq!(closed.error().map(|e| e.code), Some(err.code));
}

#[test]
fn garbage_never_panics_and_never_hangs() {
    // Mutated valid streams and pure noise, to both roles, in both modes.
    let mut rng = Rng::new(0xBAD5EED);
    let seeds: Vec<Vec<u8>> = vec![
        wire_for(
            Who::Server,
            &[f(TEXT, "héllo".as_bytes()), f(PING, b"p")],
            Feed::All,
        ),
        wire_for(
            Who::Server,
            &[f(BINARY, &[9; 300]).fin(false), f(CONT, &[8; 70_000])],
            Feed::All,
        ),
        wire_for(
            Who::Client,
            &[f(CLOSE, &close_payload(1000, b"bye"))],
            Feed::All,
        ),
        wire_for(
            Who::Client,
            &[f(TEXT, b"a").fin(false), f(CONT, b"b")],
            Feed::All,
        ),
    ];
    for round in 0..600 {
        let mut input = if round % 3 == 0 {
            let len = rng.range(0, 64);
            rng.bytes(len)
        } else {
            seeds[rng.range(0, seeds.len() - 1)].clone()
        };
        for _ in 0..rng.range(1, 4) {
            if input.is_empty() {
                break;
            }
            let at = rng.range(0, input.len() - 1);
            input[at] ^= 1 << rng.range(0, 7);
        }
        let mode = [
            MessageMode::Whole,
            MessageMode::Streaming,
            MessageMode::Frames,
        ][round as usize % 3];
        let config = Config::default()
            .with_message_mode(mode)
            .with_max_frame_size(100_000);
        for who in [Who::Server, Who::Client] {
            let chunking =
                [Chunking::Whole, Chunking::OneByte, Chunking::Random(round)][round as usize % 3];
            let mut conn = connection(who, config.clone());
            let outcome = conn.feed(&input, chunking);
            if let Some(err) = outcome.error {
                assert!(matches!(err.code.0, 1002 | 1007 | 1009), "{err:?}");
                let frames = parse_frames(&outcome.outgoing);
                assert_eq!(frames.last().and_then(|f| f.close_code()), Some(err.code.0));
            }
        }
    }
}

#[test]
fn nothing_is_read_after_the_peers_close() {
    // §5.5.1: the Close frame is the last thing the peer sends; what follows
    // it in the same read is dropped, not reported.
    for who in [Who::Server, Who::Client] {
        let input = wire_for(
            who,
            &[
                f(TEXT, b"before"),
                f(CLOSE, &close_payload(1000, b"")),
                f(TEXT, b"after"),
                f(0xF, b"even garbage"),
            ],
            Feed::All,
        );
        for chunking in [Chunking::Whole, Chunking::OneByte] {
            let mut conn = connection(who, Config::default());
            let outcome = conn.feed(&input, chunking);
            assert!(outcome.error.is_none(), "{outcome:?}");
            assert_eq!(
                outcome.events,
                [
                    Event::Text("before".into()),
                    Event::Close(CloseFrame::new(CloseCode::NORMAL, ""))
                ]
            );
            assert_eq!(parse_frames(&outcome.outgoing).len(), 1);
        }
    }
}
