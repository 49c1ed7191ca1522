//! The Python-wsproto-style facade, client against server: the same event
//! sequences and states as Python wsproto's `WSConnection`, in whole-message
//! mode (the per-frame default is covered by tests/python_wsproto/).

use bytes::Bytes;
use wsproto::CloseCode;
use wsproto::compat::events::{
    AcceptConnection, BytesMessage, CloseConnection, Ping, RejectConnection, RejectData, Request,
    TextMessage,
};
use wsproto::compat::{ConnectionState, ConnectionType, Event, ProtocolError, WSConnection};
use wsproto::{Config, MessageMode};

fn whole(kind: ConnectionType) -> WSConnection {
    WSConnection::with_config(
        kind,
        Config::default().with_message_mode(MessageMode::Whole),
    )
}

/// Delivers `bytes` to `to` in chunks of `chunk` and returns its events.
fn deliver(to: &mut WSConnection, bytes: &[u8], chunk: usize) -> Vec<Event> {
    for piece in bytes.chunks(chunk.max(1)) {
        to.receive_data(Some(piece)).unwrap();
    }
    to.events().collect()
}

/// A client and a server through the opening handshake, the client having
/// offered the subprotocol "chat" and the server having selected it.
fn open_pair(chunk: usize) -> (WSConnection, WSConnection) {
    let mut client = whole(ConnectionType::Client);
    let mut server = whole(ConnectionType::Server);
    assert_eq!(client.state(), ConnectionState::Connecting);
    assert_eq!(server.state(), ConnectionState::Connecting);
    let mut request = Request::new("example.com", "/chat?x=1");
    request.subprotocols = vec!["chat".into()];
    request
        .extra_headers
        .insert("x-trace", http::HeaderValue::from_static("42"));
    let bytes = client.send(Event::Request(request)).unwrap();
    assert_eq!(client.state(), ConnectionState::Connecting);

    let events = deliver(&mut server, &bytes, chunk);
    let [Event::Request(request)] = events.as_slice() else {
        panic!("expected one Request, got {events:?}");
    };
    assert_eq!(request.host, "example.com");
    assert_eq!(request.target, "/chat?x=1");
    assert_eq!(request.subprotocols, ["chat"]);
    assert_eq!(request.extra_headers["x-trace"], "42");
    assert_eq!(server.state(), ConnectionState::Connecting);

    let accept = AcceptConnection {
        subprotocol: Some("chat".into()),
        ..AcceptConnection::default()
    };
    let bytes = server.send(Event::AcceptConnection(accept)).unwrap();
    assert_eq!(server.state(), ConnectionState::Open);
    let events = deliver(&mut client, &bytes, chunk);
    let [Event::AcceptConnection(accepted)] = events.as_slice() else {
        panic!("expected one AcceptConnection, got {events:?}");
    };
    assert_eq!(accepted.subprotocol.as_deref(), Some("chat"));
    assert_eq!(client.state(), ConnectionState::Open);
    (client, server)
}

/// A text message, a binary message and a ping from `a` to `b`.
fn exchange(a: &mut WSConnection, b: &mut WSConnection, chunk: usize) {
    let bytes = a
        .send(Event::TextMessage(TextMessage::new("héllo")))
        .unwrap();
    assert_eq!(
        deliver(b, &bytes, chunk),
        [Event::TextMessage(TextMessage::new("héllo"))]
    );
    let data = Bytes::from(vec![0u8, 1, 2, 255]);
    let bytes = a
        .send(Event::BytesMessage(BytesMessage::new(data.clone())))
        .unwrap();
    assert_eq!(
        deliver(b, &bytes, chunk),
        [Event::BytesMessage(BytesMessage::new(data))]
    );

    // The application answers pings itself, as in Python wsproto.
    let ping = Ping {
        payload: Bytes::from_static(b"ping"),
    };
    let bytes = a.send(Event::Ping(ping.clone())).unwrap();
    let events = deliver(b, &bytes, chunk);
    assert_eq!(events, [Event::Ping(ping.clone())]);
    let Event::Ping(received) = &events[0] else {
        unreachable!()
    };
    let bytes = b.send(Event::Pong(received.response())).unwrap();
    assert_eq!(deliver(a, &bytes, chunk), [Event::Pong(ping.response())]);
}

/// Messages and pings both ways, then the close handshake started by the
/// client or the server, checking both states at each step.
fn converse_and_close(
    client: &mut WSConnection,
    server: &mut WSConnection,
    client_closes: bool,
    chunk: usize,
) {
    exchange(client, server, chunk);
    exchange(server, client, chunk);

    let (closer, other) = if client_closes {
        (client, server)
    } else {
        (server, client)
    };
    let close = CloseConnection {
        code: CloseCode::NORMAL,
        reason: Some("bye".into()),
    };
    let bytes = closer.send(Event::CloseConnection(close.clone())).unwrap();
    assert_eq!(closer.state(), ConnectionState::LocalClosing);
    // Sending data after our close is the application's mistake.
    assert!(
        closer
            .send(Event::TextMessage(TextMessage::new("late")))
            .is_err()
    );

    let events = deliver(other, &bytes, chunk);
    assert_eq!(events, [Event::CloseConnection(close.clone())]);
    assert_eq!(other.state(), ConnectionState::RemoteClosing);
    let Event::CloseConnection(received) = &events[0] else {
        unreachable!()
    };
    let bytes = other
        .send(Event::CloseConnection(received.response()))
        .unwrap();
    assert_eq!(other.state(), ConnectionState::Closed);

    assert_eq!(
        deliver(closer, &bytes, chunk),
        [Event::CloseConnection(close)]
    );
    assert_eq!(closer.state(), ConnectionState::Closed);
}

#[test]
fn a_whole_conversation_for_both_roles_and_chunkings() {
    for client_closes in [true, false] {
        for chunk in [usize::MAX, 1, 5] {
            let (mut client, mut server) = open_pair(chunk);
            converse_and_close(&mut client, &mut server, client_closes, chunk);
        }
    }
}

#[test]
fn sending_before_the_handshake_is_a_local_error() {
    let mut client = WSConnection::new(ConnectionType::Client);
    assert!(
        client
            .send(Event::TextMessage(TextMessage::new("too soon")))
            .is_err()
    );
    let mut server = WSConnection::new(ConnectionType::Server);
    assert!(
        server
            .send(Event::AcceptConnection(AcceptConnection::default()))
            .is_err()
    );
}

#[test]
fn a_rejection_with_a_body() {
    let mut client = WSConnection::new(ConnectionType::Client);
    let mut server = WSConnection::new(ConnectionType::Server);
    let bytes = client
        .send(Event::Request(Request::new("example.com", "/")))
        .unwrap();
    assert!(matches!(
        deliver(&mut server, &bytes, usize::MAX).as_slice(),
        [Event::Request(_)]
    ));

    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", http::HeaderValue::from_static("text/plain"));
    let reject = RejectConnection {
        status_code: 403,
        headers,
        has_body: true,
    };
    let mut wire = server
        .send(Event::RejectConnection(reject))
        .unwrap()
        .to_vec();
    assert_eq!(server.state(), ConnectionState::Rejecting);
    for (data, body_finished) in [("go ", false), ("away", true)] {
        let piece = RejectData {
            data: Bytes::from_static(data.as_bytes()),
            body_finished,
        };
        wire.extend_from_slice(&server.send(Event::RejectData(piece)).unwrap());
    }
    assert_eq!(server.state(), ConnectionState::Closed);
    // Nothing more may be sent.
    assert!(
        server
            .send(Event::TextMessage(TextMessage::new("x")))
            .is_err()
    );

    let events = deliver(&mut client, &wire, usize::MAX);
    let [Event::RejectConnection(rejection), Event::RejectData(body)] = events.as_slice() else {
        panic!("expected RejectConnection and RejectData, got {events:?}");
    };
    assert_eq!(rejection.status_code, 403);
    assert!(rejection.has_body);
    assert_eq!(rejection.headers["content-type"], "text/plain");
    assert_eq!(body.data, "go away");
    assert!(!body.body_finished);
    assert_eq!(client.state(), ConnectionState::Rejecting);
    // Without Content-Length the body ends with the transport.
    client.receive_data(None).unwrap();
    let events: Vec<Event> = client.events().collect();
    assert_eq!(
        events,
        [Event::RejectData(RejectData {
            data: Bytes::new(),
            body_finished: true
        })]
    );
    assert_eq!(client.state(), ConnectionState::Closed);
}

#[test]
fn a_rejection_without_a_body() {
    let mut client = WSConnection::new(ConnectionType::Client);
    let mut server = WSConnection::new(ConnectionType::Server);
    let bytes = client
        .send(Event::Request(Request::new("example.com", "/")))
        .unwrap();
    deliver(&mut server, &bytes, usize::MAX);
    let bytes = server
        .send(Event::RejectConnection(RejectConnection::default()))
        .unwrap();
    assert_eq!(server.state(), ConnectionState::Closed);
    for chunk in [usize::MAX, 1] {
        let mut client = WSConnection::new(ConnectionType::Client);
        client
            .send(Event::Request(Request::new("example.com", "/")))
            .unwrap();
        let events = deliver(&mut client, &bytes, chunk);
        // As h11 reports it: a body of length 0, ended at once.
        let [Event::RejectConnection(rejection), Event::RejectData(end)] = events.as_slice() else {
            panic!("expected RejectConnection and RejectData, got {events:?}");
        };
        assert_eq!(rejection.status_code, 400);
        assert!(rejection.has_body);
        assert_eq!(*end, RejectData::new(Bytes::new()));
        assert_eq!(client.state(), ConnectionState::Closed);
    }
    drop(client);
}

#[test]
fn the_transport_ending_is_close_1006_for_both_roles() {
    let (mut client, mut server) = open_pair(usize::MAX);
    for conn in [&mut client, &mut server] {
        conn.receive_data(None).unwrap();
        let events: Vec<Event> = conn.events().collect();
        let [Event::CloseConnection(close)] = events.as_slice() else {
            panic!("expected CloseConnection, got {events:?}");
        };
        assert_eq!(close.code, CloseCode::ABNORMAL_CLOSURE);
        // As in Python wsproto, the connection is closed at once: there is
        // no one left to send a close reply to.
        assert_eq!(conn.state(), ConnectionState::Closed);
    }
}

#[test]
fn a_bad_request_reaches_the_application_with_its_rejection() {
    let mut server = WSConnection::new(ConnectionType::Server);
    let err = server
        .receive_data(Some(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        ))
        .unwrap_err();
    let ProtocolError::Remote(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(server.events().count(), 0);
    // As in Python: still connecting, so the hint can be sent.
    assert_eq!(server.state(), ConnectionState::Connecting);
    let response = server.send(err.event_hint.unwrap()).unwrap();
    assert!(response.starts_with(b"HTTP/1.1 426 "), "{response:?}");
    assert!(
        String::from_utf8_lossy(&response)
            .to_ascii_lowercase()
            .contains("sec-websocket-version: 13")
    );
    assert_eq!(server.state(), ConnectionState::Closed);
}

/// Frames right behind the request (or the 101) must be reported as soon as
/// the connection opens, as Python wsproto does with h11's trailing data,
/// not only when more bytes happen to arrive.
#[test]
fn frames_behind_the_handshake_are_reported_at_once() {
    let mut client = WSConnection::new(ConnectionType::Client);
    let mut server = WSConnection::new(ConnectionType::Server);
    let mut wire = client
        .send(Event::Request(Request::new("example.com", "/")))
        .unwrap()
        .to_vec();
    // A masked "early" text frame, as a client that does not wait for the
    // 101 would send it.
    let mut early = wsproto::Open::<wsproto::Client>::new(wsproto::Config::default(), Vec::new());
    early.send_text("early").unwrap();
    wire.extend_from_slice(&early.take_outgoing());
    let events = deliver(&mut server, &wire, usize::MAX);
    assert!(
        matches!(events.as_slice(), [Event::Request(_)]),
        "{events:?}"
    );

    let mut wire = server
        .send(Event::AcceptConnection(AcceptConnection::default()))
        .unwrap()
        .to_vec();
    assert_eq!(
        server.events().collect::<Vec<_>>(),
        [Event::TextMessage(TextMessage::new("early"))]
    );
    wire.extend_from_slice(
        &server
            .send(Event::TextMessage(TextMessage::new("welcome")))
            .unwrap(),
    );
    let events = deliver(&mut client, &wire, usize::MAX);
    assert!(
        matches!(
            events.as_slice(),
            [Event::AcceptConnection(_), Event::TextMessage(m)] if m.data == "welcome"
        ),
        "{events:?}"
    );
}

mod hostile_input {
    //! Whatever the peer sends, in whatever pieces, the facade answers with
    //! events or errors, never a panic, in both roles and every phase.

    use proptest::prelude::*;
    use wsproto::compat::events::{AcceptConnection, CloseConnection, Request, TextMessage};
    use wsproto::compat::{ConnectionType, Event, WSConnection};

    /// Feeds `chunks` (then the end of the transport) and answers what can
    /// be answered, as an application would.
    fn drive(mut ws: WSConnection, chunks: &[Vec<u8>]) {
        for chunk in chunks {
            if let Err(wsproto::compat::ProtocolError::Remote(err)) = ws.receive_data(Some(chunk))
                && let Some(hint) = err.event_hint
            {
                let _ = ws.send(hint);
            }
            while let Some(event) = ws.next_event() {
                let _ = match event {
                    Event::Request(_) => ws.send(AcceptConnection::default()),
                    Event::Ping(ping) => ws.send(ping.response()),
                    Event::CloseConnection(close) => ws.send(close.response()),
                    Event::TextMessage(m) => ws.send(m),
                    _ => ws.send(TextMessage::new("x")),
                };
            }
        }
        let _ = ws.receive_data(None);
        let _ = ws.events().count();
        let _ = ws.send(CloseConnection::new(1000u16));
    }

    /// A server past the request, so that frames are decoded too.
    fn server_prefix() -> Vec<u8> {
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
          Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            .to_vec()
    }

    fn chunks() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_server_survives_any_bytes(mut input in chunks(), handshake in any::<bool>()) {
            if handshake {
                input.insert(0, server_prefix());
            }
            drive(WSConnection::new(ConnectionType::Server), &input);
        }

        #[test]
        fn a_client_survives_any_bytes(input in chunks(), status in prop::sample::select(vec![101u16, 200, 400, 101])) {
            let mut ws = WSConnection::new(ConnectionType::Client);
            let request = ws.send(Request::new("a", "/")).unwrap();
            let key = String::from_utf8_lossy(&request)
                .lines()
                .find_map(|l| l.strip_prefix("sec-websocket-key: ").map(str::to_owned))
                .unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {status} X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
                wsproto::handshake::accept_key(key.as_bytes())
            );
            let mut all = vec![head.into_bytes()];
            all.extend(input);
            drive(ws, &all);
        }
    }
}

/// Bytes that arrive before the application accepts are kept for the
/// connection (Python drops them), but only up to the receive buffer's
/// limit: no unbounded buffer.
#[test]
fn bytes_before_the_accept_are_bounded() {
    let config = Config::default().with_max_receive_buffer(64);
    let mut server = WSConnection::with_config(ConnectionType::Server, config);
    let mut client = WSConnection::new(ConnectionType::Client);
    server
        .receive_data(Some(
            &client.send(Event::Request(Request::new("a", "/"))).unwrap(),
        ))
        .unwrap();
    assert!(matches!(server.next_event(), Some(Event::Request(_))));
    let mut early = wsproto::Open::<wsproto::Client>::new(Config::default(), Vec::new());
    early.send_text("ok").unwrap();
    server.receive_data(Some(&early.take_outgoing())).unwrap();
    let Err(ProtocolError::Remote(err)) = server.receive_data(Some(&[0u8; 100])) else {
        panic!("100 more bytes went over the limit of 64")
    };
    assert!(err.event_hint.is_none());
    server
        .send(Event::AcceptConnection(AcceptConnection::default()))
        .unwrap();
    let events: Vec<Event> = server.events().collect();
    assert_eq!(events, [Event::TextMessage(TextMessage::new("ok"))]);
}
