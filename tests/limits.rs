//! Every documented limit, at its default and at its edge: what it bounds,
//! and what the peer or the caller gets when it is crossed.

use wsproto::handshake::ServerHandshake;
use wsproto::{
    Client, CloseCode, Config, Event, LocalError, MessageMode, Open, Pending, ProtocolError, Server,
};

const KEY: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

/// A client-to-server (masked) frame.
fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    header_len(&mut out, payload.len() as u64);
    out.extend_from_slice(&KEY);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    out
}

/// Appends the (masked) length bytes of a header.
fn header_len(out: &mut Vec<u8>, len: u64) {
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// A header alone, declaring `len` bytes that are not there.
fn bare_header(first_byte: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first_byte];
    header_len(&mut out, len);
    out.extend_from_slice(&KEY);
    out
}

fn server(config: Config) -> Open<Server> {
    Open::<Server>::new(config, Vec::new())
}

/// Polls until `Ok(None)` or an error; returns the events and the error.
fn drain(ws: &mut Open<Server>) -> (Vec<Event>, Option<ProtocolError>) {
    let mut events = Vec::new();
    loop {
        match ws.poll_event() {
            Ok(Some(event)) => events.push(event),
            Ok(None) => return (events, None),
            Err(err) => return (events, Some(err)),
        }
    }
}

/// The code of the close frame at the end of a server's output.
fn sent_close_code(out: &[u8]) -> u16 {
    // A server's close frame is unmasked and short: 0x88, len, code.
    let at = out
        .windows(2)
        .rposition(|w| w[0] == 0x88 && usize::from(w[1]) + 2 <= out.len())
        .expect("a close frame");
    u16::from_be_bytes([out[at + 2], out[at + 3]])
}

#[test]
fn defaults_are_the_documented_ones() {
    let config = Config::default();
    assert_eq!(config.max_handshake_size, 16 << 10);
    assert_eq!(config.max_headers, 64);
    assert_eq!(config.max_frame_size, 16 << 20);
    assert_eq!(config.max_message_size, 64 << 20);
    assert_eq!(config.max_outgoing_buffer, 128 << 20);
    assert_eq!(config.message_mode, MessageMode::Whole);
    assert!(config.auto_pong && config.auto_close);
    assert_eq!(wsproto::frame::MAX_CONTROL_PAYLOAD, 125);
    assert_eq!(wsproto::frame::MAX_CLOSE_REASON, 123);
}

// ---- handshake ---------------------------------------------------------------

/// A valid upgrade request with `extra` headers, padded with an `X-Pad`
/// header to exactly `size` bytes when given.
fn request(extra: usize, size: Option<usize>) -> Vec<u8> {
    let mut head = String::from(
        "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n",
    );
    for i in 0..extra {
        head.push_str(&format!("X-Extra-{i}: {i}\r\n"));
    }
    if let Some(size) = size {
        let fixed = head.len() + "X-Pad: \r\n\r\n".len();
        head.push_str("X-Pad: ");
        head.push_str(&"a".repeat(size - fixed));
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    if let Some(size) = size {
        assert_eq!(head.len(), size);
    }
    head.into_bytes()
}

fn handshake(bytes: &[u8], config: Config) -> Result<(), http::StatusCode> {
    match Pending::<Server>::new(config, Vec::new()).receive(bytes) {
        Ok(ServerHandshake::Request(_)) => Ok(()),
        Ok(ServerHandshake::Pending(_)) => panic!("the request is complete"),
        Err(err) => Err(err.status),
    }
}

#[test]
fn handshake_head_over_max_handshake_size_is_431() {
    let limit = Config::default().max_handshake_size;
    assert_eq!(
        handshake(&request(0, Some(limit)), Config::default()),
        Ok(())
    );
    assert_eq!(
        handshake(&request(0, Some(limit + 1)), Config::default()),
        Err(http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
    );
    // A head that never ends is cut off at the limit, not buffered forever.
    let mut pending = Pending::<Server>::new(Config::default(), Vec::new());
    let endless = b"GET / HTTP/1.1\r\nX-Endless: ";
    pending = match pending.receive(endless) {
        Ok(ServerHandshake::Pending(p)) => p,
        other => panic!("{other:?}"),
    };
    let mut fed = endless.len();
    loop {
        match pending.receive(&[b'a'; 1000]) {
            Ok(ServerHandshake::Pending(p)) => pending = p,
            Err(err) => {
                assert_eq!(err.status, 431);
                break;
            }
            Ok(ServerHandshake::Request(_)) => unreachable!(),
        }
        fed += 1000;
        assert!(fed <= limit);
    }
}

#[test]
fn more_headers_than_max_headers_is_431() {
    let limit = Config::default().max_headers;
    // The request has five headers of its own.
    assert_eq!(
        handshake(&request(limit - 5, None), Config::default()),
        Ok(())
    );
    assert_eq!(
        handshake(&request(limit - 4, None), Config::default()),
        Err(http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
    );
}

#[test]
fn request_fed_one_byte_at_a_time_completes() {
    // A 15 KiB request in 15,360 reads of one byte. The head buffer looks at
    // each new byte once for the blank line and parses the head once, so the
    // work is linear in the size; a parser that re-parsed the whole buffer
    // on every read (tungstenite's CVE-2023-43669) would do ~118 million
    // byte-steps here. No timing is asserted: a quadratic regression shows
    // as this test turning slow, not flaky.
    let bytes = request(0, Some(15 << 10));
    let mut pending = Pending::<Server>::new(Config::default(), Vec::new());
    let (last, body) = bytes.split_last().expect("non-empty");
    for byte in body {
        pending = match pending.receive(std::slice::from_ref(byte)) {
            Ok(ServerHandshake::Pending(p)) => p,
            other => panic!("finished early: {other:?}"),
        };
    }
    match pending.receive(std::slice::from_ref(last)) {
        Ok(ServerHandshake::Request(request)) => {
            assert_eq!(request.request().uri(), "/chat");
        }
        other => panic!("{other:?}"),
    }
}

// ---- frames and messages -----------------------------------------------------

#[test]
fn frame_over_max_frame_size_is_1009_before_its_payload() {
    let config = Config::default().with_max_frame_size(1000);
    let mut ws = server(config.clone());
    ws.receive(&frame(0x82, &[7; 1000])).unwrap();
    assert_eq!(
        drain(&mut ws),
        (vec![Event::Binary(vec![7; 1000].into())], None)
    );

    let mut ws = server(config);
    ws.receive(&bare_header(0x82, 1001)).unwrap();
    let (_, err) = drain(&mut ws);
    assert_eq!(
        err.expect("over the limit").code,
        CloseCode::MESSAGE_TOO_BIG
    );
    assert_eq!(sent_close_code(&ws.take_outgoing()), 1009);

    // The default: 16 MiB.
    let mut ws = server(Config::default());
    ws.receive(&bare_header(0x82, (16 << 20) + 1)).unwrap();
    assert_eq!(
        drain(&mut ws).1.expect("over").code,
        CloseCode::MESSAGE_TOO_BIG
    );
}

#[test]
fn message_over_max_message_size_is_1009_in_both_modes() {
    for mode in [MessageMode::Whole, MessageMode::Streaming] {
        let config = Config::default()
            .with_max_message_size(1000)
            .with_message_mode(mode);
        // Exactly at the limit, in three fragments.
        let mut ws = server(config.clone());
        ws.receive(&frame(0x02, &[1; 400])).unwrap();
        ws.receive(&frame(0x00, &[1; 400])).unwrap();
        ws.receive(&frame(0x80, &[1; 200])).unwrap();
        let (events, err) = drain(&mut ws);
        assert_eq!(err, None);
        assert!(!events.is_empty());

        // One byte over: the third fragment's header is enough to fail.
        let mut ws = server(config);
        ws.receive(&frame(0x02, &[1; 400])).unwrap();
        ws.receive(&frame(0x00, &[1; 400])).unwrap();
        ws.receive(&bare_header(0x80, 201)).unwrap();
        let (_, err) = drain(&mut ws);
        assert_eq!(
            err.expect("over").code,
            CloseCode::MESSAGE_TOO_BIG,
            "{mode:?}"
        );
        assert_eq!(sent_close_code(&ws.take_outgoing()), 1009);
    }
}

#[test]
fn declared_length_does_not_size_an_allocation() {
    for mode in [MessageMode::Whole, MessageMode::Streaming] {
        // 16 MiB is within the default max_frame_size, so the frame is
        // accepted and waits for its payload, of which 10 bytes came.
        let mut ws = server(Config::default().with_message_mode(mode));
        let mut bytes = bare_header(0x82, 16 << 20);
        bytes.extend_from_slice(&[0; 10]);
        ws.receive(&bytes).unwrap();
        let (_, err) = drain(&mut ws);
        assert_eq!(err, None);
        let capacity = ws.receive_buffer().unwrap().capacity();
        assert!(capacity < 4096, "{mode:?}: capacity {capacity}");
    }
}

#[test]
fn control_payload_over_125_is_1002_or_refused() {
    let mut ws = server(Config::default());
    ws.receive(&bare_header(0x89, 126)).unwrap();
    assert_eq!(
        drain(&mut ws).1.expect("over").code,
        CloseCode::PROTOCOL_ERROR
    );

    let mut ws = server(Config::default());
    assert_eq!(ws.send_ping(&[0; 125]), Ok(()));
    assert_eq!(
        ws.send_ping(&[0; 126]),
        Err(LocalError::ControlPayloadTooLarge(126))
    );
}

#[test]
fn close_reason_is_cut_to_123_bytes() {
    let ws = server(Config::default());
    let mut closing = ws.close(CloseCode::NORMAL, &"é".repeat(100));
    let out = closing.take_outgoing();
    // 0x88, length, code, reason: 61 'é' is 122 bytes, the 62nd won't fit.
    assert_eq!(out[1], 2 + 122);
    assert!(std::str::from_utf8(&out[4..]).is_ok());
}

// ---- the outgoing buffer -----------------------------------------------------

#[test]
fn outgoing_buffer_is_bounded_and_visible() {
    let mut ws = server(Config::default().with_max_outgoing_buffer(1000));
    assert_eq!(ws.outgoing_len(), 0);
    ws.send_binary(&[0; 600]).expect("fits");
    // A 600-byte payload takes a 4-byte header.
    assert_eq!(ws.outgoing_len(), 604);
    assert_eq!(
        ws.send_binary(&[0; 600]),
        Err(LocalError::OutgoingBufferFull {
            queued: 604,
            limit: 1000
        })
    );
    // Nothing was queued by the refused send; draining makes room.
    assert_eq!(ws.take_outgoing().len(), 604);
    assert_eq!(ws.outgoing_len(), 0);
    ws.send_binary(&[0; 600]).expect("fits again");
}

#[test]
fn ping_flood_keeps_the_outgoing_buffer_bounded() {
    // 100,000 pings in one read, and a caller that watches outgoing_len
    // but never drains: pongs queue up to the limit, then only the latest
    // ping is answered, once there is room.
    const PINGS: u32 = 100_000;
    let limit = 64 << 10;
    let mut ws = server(Config::default().with_max_outgoing_buffer(limit));
    let mut bytes = Vec::with_capacity(PINGS as usize * 10);
    for i in 0..PINGS {
        bytes.extend(frame(0x89, &i.to_be_bytes()));
    }
    ws.receive(&bytes).unwrap();
    let mut pings = 0;
    while let Some(event) = ws.poll_event().expect("pings are fine") {
        assert!(matches!(event, Event::Ping(_)));
        pings += 1;
        let queued = ws.outgoing_len();
        assert!(
            queued <= limit + 2 + 125,
            "{queued} bytes queued after {pings} pings"
        );
    }
    assert_eq!(pings, PINGS);
    // The last pong answers the last ping.
    let out = ws.take_outgoing();
    assert!(out.len() <= limit + 2 + 125);
    assert_eq!(&out[out.len() - 6..], &[0x8A, 4, 0, 1, 0x86, 0x9F]);
}

#[test]
fn tiny_continuation_flood_is_bounded_by_max_message_size() {
    // A binary message of 1,000,000 one-byte fragments against a 64 KiB
    // message limit, read 64 KiB at a time: it fails with 1009 as soon as
    // the message passes 64 KiB, having buffered no more than that.
    const FRAGMENTS: usize = 1_000_000;
    const READ: usize = 64 << 10;
    let limit: u64 = 64 << 10;
    for mode in [MessageMode::Whole, MessageMode::Streaming] {
        let config = Config::default()
            .with_max_message_size(limit)
            .with_message_mode(mode);
        let mut ws = server(config);
        let mut bytes = frame(0x02, b"x");
        let fragment = frame(0x00, b"x");
        bytes.reserve(FRAGMENTS * fragment.len());
        for _ in 0..FRAGMENTS {
            bytes.extend_from_slice(&fragment);
        }
        let mut received = 0usize;
        let mut fed = 0usize;
        let mut error = None;
        for read in bytes.chunks(READ) {
            ws.receive(read).unwrap();
            fed += read.len();
            loop {
                match ws.poll_event() {
                    Ok(Some(Event::BinaryChunk { data, .. })) => received += data.len(),
                    Ok(Some(other)) => panic!("{other:?}"),
                    Ok(None) => break,
                    Err(err) => {
                        error = Some(err);
                        break;
                    }
                }
            }
            // What is buffered is the read, never the message.
            let capacity = ws.receive_buffer().unwrap().capacity();
            assert!(capacity <= 2 * READ, "{mode:?}: receive buffer {capacity}");
            if error.is_some() {
                break;
            }
        }
        let error = error.expect("the message goes over the limit");
        assert_eq!(error.code, CloseCode::MESSAGE_TOO_BIG);
        // It failed at the fragment that crossed the limit: 65,537 frames
        // of 7 bytes, so within the 8th read.
        assert!(fed <= (limit as usize + 1) * fragment.len() + READ, "{fed}");
        assert!(received as u64 <= limit);
        assert_eq!(sent_close_code(&ws.take_outgoing()), 1009);
    }
}

#[test]
fn a_client_enforces_the_same_limits() {
    let mut ws = Open::<Client>::new(Config::default().with_max_frame_size(10), Vec::new());
    ws.receive(&[0x82, 11]).unwrap();
    let err = ws.poll_event().expect_err("over max_frame_size");
    assert_eq!(err.code, CloseCode::MESSAGE_TOO_BIG);
}
