//! tests/test_client.py: `WSConnection` as a client, against an HTTP
//! server played by hand (h11 in Python).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use wsproto::compat::events::{AcceptConnection, RejectConnection, RejectData, Request};
use wsproto::compat::extensions::ExtensionRef;
use wsproto::compat::{ConnectionState, ConnectionType, Event, ProtocolError, WSConnection};

use crate::helpers::{FakeExtension, Head, generate_accept_token, head, parse_request};

fn make_connection_request(request: Request) -> Head {
    let mut client = WSConnection::new(ConnectionType::Client);
    parse_request(&client.send(request).unwrap())
}

#[test]
fn test_connection_request() {
    let request = make_connection_request(Request::new("localhost", "/"));
    assert_eq!(request.version, 1);
    assert_eq!(request.method.as_deref(), Some("GET"));
    assert_eq!(request.target.as_deref(), Some("/"));
    assert_eq!(request.normed("connection").as_deref(), Some("Upgrade"));
    assert_eq!(request.normed("host").as_deref(), Some("localhost"));
    assert_eq!(
        request.normed("sec-websocket-version").as_deref(),
        Some("13")
    );
    assert_eq!(request.normed("upgrade").as_deref(), Some("websocket"));
    assert!(request.normed("sec-websocket-key").is_some());
}

#[test]
fn test_connection_request_additional_headers() {
    let mut request = Request::new("localhost", "/");
    request
        .extra_headers
        .append("X-Foo", HeaderValue::from_static("Bar"));
    request
        .extra_headers
        .append("X-Bar", HeaderValue::from_static("Foo"));
    let request = make_connection_request(request);
    assert_eq!(request.normed("x-foo").as_deref(), Some("Bar"));
    assert_eq!(request.normed("x-bar").as_deref(), Some("Foo"));
}

fn with_extension(ext: ExtensionRef) -> Request {
    let mut request = Request::new("localhost", "/");
    request.extensions = vec![ext.into()];
    request
}

#[test]
fn test_connection_request_simple_extension() {
    let (_, ext) = FakeExtension::new(Some(""), None).shared();
    let request = make_connection_request(with_extension(ext));
    assert_eq!(
        request.normed("sec-websocket-extensions").as_deref(),
        Some(FakeExtension::NAME)
    );
}

#[test]
fn test_connection_request_simple_extension_no_offer() {
    let (_, ext) = FakeExtension::new(None, None).shared();
    let request = make_connection_request(with_extension(ext));
    assert_eq!(request.normed("sec-websocket-extensions"), None);
}

#[test]
fn test_connection_request_parametrised_extension() {
    let offer_response = "parameter1=value1; parameter2=value2";
    let (_, ext) = FakeExtension::new(Some(offer_response), None).shared();
    let request = make_connection_request(with_extension(ext));
    assert_eq!(
        request.normed("sec-websocket-extensions"),
        Some(format!("{}; {offer_response}", FakeExtension::NAME))
    );
}

#[test]
fn test_connection_request_subprotocols() {
    let mut request = Request::new("localhost", "/");
    request.subprotocols = vec!["one".into(), "two".into()];
    let request = make_connection_request(request);
    assert_eq!(
        request.normed("sec-websocket-protocol").as_deref(),
        Some("one, two")
    );
}

#[test]
fn test_connection_send_state() {
    let mut client = WSConnection::new(ConnectionType::Client);
    assert_eq!(client.state(), ConnectionState::Connecting);
    let request = parse_request(&client.send(Request::new("localhost", "/")).unwrap());
    let key = request.normed("sec-websocket-key").unwrap();
    let accept = generate_accept_token(&key);
    let response = head(
        "HTTP/1.1 101 Switching Protocols",
        &[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("Sec-WebSocket-Accept", &accept),
        ],
    );
    client.receive_data(Some(&response)).unwrap();
    assert_eq!(client.events().count(), 1);
    assert_eq!(client.state(), ConnectionState::Open);
    assert!(client.send(Request::new("localhost", "/")).is_err());
    // "foobar": a frame header (opcode 6, reserved) that fails the
    // connection: one CloseConnection event.
    client.receive_data(Some(b"foobar")).unwrap();
    assert_eq!(client.events().count(), 1);
}

/// Python's `_make_handshake`: the client's events after the server
/// answered with `response_status` and `response_headers`.
fn make_handshake(
    response_status: u16,
    response_headers: &[(&str, &str)],
    subprotocols: &[&str],
    extensions: Vec<ExtensionRef>,
    auto_accept_key: bool,
) -> Result<Vec<Event>, ProtocolError> {
    let mut client = WSConnection::new(ConnectionType::Client);
    assert_eq!(client.state(), ConnectionState::Connecting);
    let mut request = Request::new("localhost", "/");
    request.subprotocols = subprotocols.iter().map(|s| s.to_string()).collect();
    request.extensions = extensions.into_iter().map(Into::into).collect();
    let request = parse_request(&client.send(request).unwrap());
    let mut headers: Vec<(&str, &str)> = response_headers.to_vec();
    let accept = generate_accept_token(&request.normed("sec-websocket-key").unwrap());
    if auto_accept_key {
        headers.push(("Sec-WebSocket-Accept", &accept));
    }
    let response = head(&format!("HTTP/1.1 {response_status} "), &headers);
    client.receive_data(Some(&response))?;
    assert_ne!(client.state(), ConnectionState::Connecting);
    Ok(client.events().collect())
}

const UPGRADE: [(&str, &str); 2] = [("connection", "Upgrade"), ("upgrade", "websocket")];

fn remote_message(result: Result<Vec<Event>, ProtocolError>) -> String {
    match result {
        Err(ProtocolError::Remote(err)) => err.to_string(),
        other => panic!("expected a RemoteProtocolError, got {other:?}"),
    }
}

#[test]
fn test_handshake() {
    let events = make_handshake(101, &UPGRADE, &[], Vec::new(), true).unwrap();
    assert_eq!(
        events,
        [Event::AcceptConnection(AcceptConnection::default())]
    );
}

#[test]
fn test_broken_handshake() {
    let events = make_handshake(102, &UPGRADE, &[], Vec::new(), true).unwrap();
    let Event::RejectConnection(reject) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(reject.status_code, 102);
}

#[test]
fn test_handshake_extra_accept_headers() {
    let mut headers = UPGRADE.to_vec();
    headers.push(("X-Foo", "bar"));
    let events = make_handshake(101, &headers, &[], Vec::new(), true).unwrap();
    let mut extra_headers = HeaderMap::new();
    extra_headers.insert("x-foo", HeaderValue::from_static("bar"));
    assert_eq!(
        events,
        [Event::AcceptConnection(AcceptConnection {
            extra_headers,
            ..AcceptConnection::default()
        })]
    );
}

#[test]
fn test_handshake_response_broken_connection_header() {
    for extra_headers in [vec![], vec![("connection", "Keep-Alive")]] {
        let mut headers = vec![("upgrade", "websocket")];
        headers.extend(extra_headers);
        let result = make_handshake(101, &headers, &[], Vec::new(), true);
        assert_eq!(
            remote_message(result),
            "Missing header, 'Connection: Upgrade'"
        );
    }
}

#[test]
fn test_handshake_response_broken_upgrade_header() {
    for extra_headers in [vec![], vec![("upgrade", "h2")]] {
        let mut headers = vec![("connection", "Upgrade")];
        headers.extend(extra_headers);
        let result = make_handshake(101, &headers, &[], Vec::new(), true);
        assert_eq!(
            remote_message(result),
            "Missing header, 'Upgrade: websocket'"
        );
    }
}

#[test]
fn test_handshake_response_missing_websocket_key_header() {
    let result = make_handshake(101, &UPGRADE, &[], Vec::new(), false);
    assert_eq!(remote_message(result), "Bad accept token");
}

#[test]
fn test_handshake_with_subprotocol() {
    let mut headers = UPGRADE.to_vec();
    headers.push(("sec-websocket-protocol", "one"));
    let events = make_handshake(101, &headers, &["one", "two"], Vec::new(), true).unwrap();
    assert_eq!(
        events,
        [Event::AcceptConnection(AcceptConnection {
            subprotocol: Some("one".into()),
            ..AcceptConnection::default()
        })]
    );
}

#[test]
fn test_handshake_bad_subprotocol() {
    let mut headers = UPGRADE.to_vec();
    headers.push(("sec-websocket-protocol", "new"));
    let result = make_handshake(101, &headers, &[], Vec::new(), true);
    assert_eq!(remote_message(result), "unrecognized subprotocol new");
}

#[test]
fn test_handshake_with_extension() {
    let (fake, ext) = FakeExtension::new(Some(""), None).shared();
    let mut headers = UPGRADE.to_vec();
    headers.push(("sec-websocket-extensions", "fake"));
    let events = make_handshake(101, &headers, &[], vec![ext.clone()], true).unwrap();
    assert_eq!(
        events,
        [Event::AcceptConnection(AcceptConnection {
            extensions: vec![ext],
            ..AcceptConnection::default()
        })]
    );
    assert_eq!(fake.lock().unwrap().accepted_offer.as_deref(), Some("fake"));
}

#[test]
fn test_handshake_bad_extension() {
    let mut headers = UPGRADE.to_vec();
    headers.push(("sec-websocket-extensions", "bad, foo"));
    let result = make_handshake(101, &headers, &[], Vec::new(), true);
    assert_eq!(remote_message(result), "unrecognized extension bad");
}

#[test]
fn test_protocol_error() {
    let mut client = WSConnection::new(ConnectionType::Client);
    client.send(Request::new("localhost", "/")).unwrap();
    let result = client
        .receive_data(Some(b"broken nonsense\r\n\r\n"))
        .map(|()| Vec::new());
    assert_eq!(remote_message(result), "Bad HTTP message");
}

/// Python's `_make_handshake_rejection`: h11 sends the response, its body,
/// and its end (with no Content-Length, h11 marks `Connection: close` and
/// ends the body by closing).
fn make_handshake_rejection(status_code: u16, body: Option<&[u8]>) -> Vec<Event> {
    let mut client = WSConnection::new(ConnectionType::Client);
    client.send(Request::new("localhost", "/")).unwrap();
    let length = body.map(|b| b.len().to_string());
    let headers = match &length {
        Some(len) => vec![("content-length", len.as_str())],
        None => vec![("connection", "close")],
    };
    client
        .receive_data(Some(&head(&format!("HTTP/1.1 {status_code} "), &headers)))
        .unwrap();
    match body {
        Some(body) => client.receive_data(Some(body)).unwrap(),
        None => client.receive_data(None).unwrap(),
    }
    client.events().collect()
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn test_handshake_rejection() {
    let events = make_handshake_rejection(400, None);
    assert_eq!(
        events,
        [
            Event::RejectConnection(RejectConnection {
                headers: headers(&[("connection", "close")]),
                has_body: true,
                status_code: 400,
            }),
            Event::RejectData(RejectData {
                body_finished: true,
                data: Bytes::new(),
            }),
        ]
    );
}

#[test]
fn test_handshake_rejection_with_body() {
    let events = make_handshake_rejection(400, Some(b"Hello"));
    assert_eq!(
        events,
        [
            Event::RejectConnection(RejectConnection {
                headers: headers(&[("content-length", "5")]),
                has_body: true,
                status_code: 400,
            }),
            Event::RejectData(RejectData {
                body_finished: false,
                data: Bytes::from_static(b"Hello"),
            }),
            Event::RejectData(RejectData {
                body_finished: true,
                data: Bytes::new(),
            }),
        ]
    );
}
