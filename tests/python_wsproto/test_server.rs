//! tests/test_server.py: `WSConnection` as a server, against an HTTP
//! client played by hand (h11 in Python).

use http::{HeaderMap, HeaderValue};
use wsproto::compat::events::{AcceptConnection, RejectConnection, RejectData, Request};
use wsproto::compat::extensions::ExtensionRef;
use wsproto::compat::{ConnectionType, Event, ProtocolError, WSConnection};

use crate::helpers::{
    FakeExtension, Head, generate_accept_token, generate_nonce, head, parse_response,
};

fn make_connection_request(
    request_headers: &[(&str, &str)],
    method: &str,
) -> Result<Request, ProtocolError> {
    let mut server = WSConnection::new(ConnectionType::Server);
    server.receive_data(Some(&head(
        &format!("{method} / HTTP/1.1"),
        request_headers,
    )))?;
    match server.events().next() {
        Some(Event::Request(request)) => Ok(request),
        other => panic!("expected a Request, got {other:?}"),
    }
}

fn remote(result: Result<Request, ProtocolError>) -> wsproto::compat::RemoteProtocolError {
    match result {
        Err(ProtocolError::Remote(err)) => err,
        other => panic!("expected a RemoteProtocolError, got {other:?}"),
    }
}

fn check_request(event: &Request) {
    assert!(event.extensions.is_empty());
    assert_eq!(event.host, "localhost");
    assert!(event.subprotocols.is_empty());
    assert_eq!(event.target, "/");
    let headers = &event.extra_headers;
    assert!(!headers.contains_key("host"));
    assert!(!headers.contains_key("sec-websocket-extensions"));
    assert!(!headers.contains_key("sec-websocket-protocol"));
    assert_eq!(headers["connection"], "Keep-Alive, Upgrade");
    assert_eq!(headers["sec-websocket-version"], "13");
    assert_eq!(headers["upgrade"], "websocket");
    assert_eq!(headers["x-foo"], "bar");
}

#[test]
fn test_connection_request() {
    let nonce = generate_nonce();
    let event = make_connection_request(
        &[
            ("Host", "localhost"),
            ("Connection", "Keep-Alive, Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", &nonce),
            ("X-Foo", "bar"),
        ],
        "GET",
    )
    .unwrap();
    check_request(&event);
}

#[test]
fn test_connection_request_bad_method() {
    let nonce = generate_nonce();
    let err = remote(make_connection_request(
        &[
            ("Host", "localhost"),
            ("Connection", "Keep-Alive, Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", &nonce),
        ],
        "POST",
    ));
    assert_eq!(err.to_string(), "Request method must be GET");
}

#[test]
fn test_connection_request_bad_connection_header() {
    let nonce = generate_nonce();
    let err = remote(make_connection_request(
        &[
            ("Host", "localhost"),
            ("Connection", "Keep-Alive, No-Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", &nonce),
        ],
        "GET",
    ));
    assert_eq!(err.to_string(), "Missing header, 'Connection: Upgrade'");
}

#[test]
fn test_connection_request_bad_upgrade_header() {
    let nonce = generate_nonce();
    let err = remote(make_connection_request(
        &[
            ("Host", "localhost"),
            ("Connection", "Keep-Alive, Upgrade"),
            ("Upgrade", "h2c"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", &nonce),
        ],
        "GET",
    ));
    assert_eq!(err.to_string(), "Missing header, 'Upgrade: websocket'");
}

#[test]
fn test_connection_request_bad_version_header() {
    for version in ["12", "not-a-digit"] {
        let nonce = generate_nonce();
        let err = remote(make_connection_request(
            &[
                ("Host", "localhost"),
                ("Connection", "Keep-Alive, Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", version),
                ("Sec-WebSocket-Key", &nonce),
            ],
            "GET",
        ));
        assert_eq!(err.to_string(), "Missing header, 'Sec-WebSocket-Version'");
        let mut headers = HeaderMap::new();
        headers.insert("Sec-WebSocket-Version", HeaderValue::from_static("13"));
        assert_eq!(
            err.event_hint.map(|hint| *hint),
            Some(Event::RejectConnection(RejectConnection {
                headers,
                status_code: 426,
                has_body: false,
            }))
        );
    }
}

#[test]
fn test_connection_request_key_header() {
    let err = remote(make_connection_request(
        &[
            ("Host", "localhost"),
            ("Connection", "Keep-Alive, Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
        ],
        "GET",
    ));
    assert_eq!(err.to_string(), "Missing header, 'Sec-WebSocket-Key'");
}

#[test]
fn test_upgrade_request() {
    let mut server = WSConnection::new(ConnectionType::Server);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("Host", "localhost".to_owned()),
        ("Connection", "Keep-Alive, Upgrade".into()),
        ("Upgrade", "websocket".into()),
        ("Sec-WebSocket-Version", "13".into()),
        ("Sec-WebSocket-Key", generate_nonce()),
        ("X-Foo", "bar".into()),
    ] {
        headers.append(name, HeaderValue::from_str(&value).unwrap());
    }
    server.initiate_upgrade_connection(&headers, "/").unwrap();
    let Some(Event::Request(event)) = server.events().next() else {
        panic!()
    };
    check_request(&event);
}

/// Python's `_make_handshake`: the 101 the server sent, and the nonce.
fn make_handshake(
    request_headers: &[(&str, &str)],
    accept_headers: &[(&'static str, &'static str)],
    subprotocol: Option<&str>,
    extensions: Vec<ExtensionRef>,
) -> (Head, String) {
    let mut server = WSConnection::new(ConnectionType::Server);
    let nonce = generate_nonce();
    let mut headers = vec![
        ("Host", "localhost"),
        ("Connection", "Keep-Alive, Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", &nonce),
    ];
    headers.extend_from_slice(request_headers);
    server
        .receive_data(Some(&head("GET / HTTP/1.1", &headers)))
        .unwrap();
    let mut extra_headers = HeaderMap::new();
    for (name, value) in accept_headers {
        extra_headers.append(*name, HeaderValue::from_static(value));
    }
    let bytes = server
        .send(AcceptConnection {
            extra_headers,
            subprotocol: subprotocol.map(str::to_owned),
            extensions,
        })
        .unwrap();
    (parse_response(&bytes), nonce)
}

fn sorted(head: &Head) -> Vec<(String, String)> {
    let mut headers = head.headers.clone();
    headers.sort();
    headers
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn test_handshake() {
    let (response, nonce) = make_handshake(&[], &[], None, Vec::new());
    assert_eq!(response.status, Some(101));
    let accept = generate_accept_token(&nonce);
    assert_eq!(
        sorted(&response),
        pairs(&[
            ("connection", "Upgrade"),
            ("sec-websocket-accept", &accept),
            ("upgrade", "websocket"),
        ])
    );
}

#[test]
fn test_handshake_extra_headers() {
    let (response, nonce) = make_handshake(&[], &[("X-Foo", "bar")], None, Vec::new());
    assert_eq!(response.status, Some(101));
    let accept = generate_accept_token(&nonce);
    assert_eq!(
        sorted(&response),
        pairs(&[
            ("connection", "Upgrade"),
            ("sec-websocket-accept", &accept),
            ("upgrade", "websocket"),
            ("x-foo", "bar"),
        ])
    );
}

#[test]
fn test_handshake_with_subprotocol() {
    for accept_subprotocol in ["one", "two"] {
        let (response, _) = make_handshake(
            &[("Sec-Websocket-Protocol", "one, two")],
            &[],
            Some(accept_subprotocol),
            Vec::new(),
        );
        assert_eq!(
            response.normed("sec-websocket-protocol").as_deref(),
            Some(accept_subprotocol)
        );
    }
}

#[test]
fn test_handshake_with_extension() {
    let (_, ext) = FakeExtension::new(None, Some("")).shared();
    let (response, _) = make_handshake(
        &[("Sec-Websocket-Extensions", FakeExtension::NAME)],
        &[],
        None,
        vec![ext],
    );
    assert_eq!(
        response.normed("sec-websocket-extensions").as_deref(),
        Some(FakeExtension::NAME)
    );
}

#[test]
fn test_handshake_with_extension_params() {
    let offered_params = "parameter1=value3; parameter2=value4";
    let accepted_params = "parameter1=value1; parameter2=value2";
    let (fake, ext) = FakeExtension::new(None, Some(accepted_params)).shared();
    let offer = format!("{}; {offered_params}", FakeExtension::NAME);
    let (response, _) = make_handshake(
        &[("Sec-Websocket-Extensions", &offer)],
        &[],
        None,
        vec![ext],
    );
    assert_eq!(
        fake.lock().unwrap().offered.as_deref(),
        Some(offer.as_str())
    );
    assert_eq!(
        response.normed("sec-websocket-extensions"),
        Some(format!("{}; {accepted_params}", FakeExtension::NAME))
    );
}

#[test]
fn test_handshake_with_extra_unaccepted_extension() {
    let (_, ext) = FakeExtension::new(None, Some("")).shared();
    let offer = format!("pretend, {}", FakeExtension::NAME);
    let (response, _) = make_handshake(
        &[("Sec-Websocket-Extensions", &offer)],
        &[],
        None,
        vec![ext],
    );
    assert_eq!(
        response.normed("sec-websocket-extensions").as_deref(),
        Some(FakeExtension::NAME)
    );
}

#[test]
fn test_protocol_error() {
    let mut server = WSConnection::new(ConnectionType::Server);
    let err = server
        .receive_data(Some(b"broken nonsense\r\n\r\n"))
        .unwrap_err();
    assert_eq!(err.to_string(), "Bad HTTP message");
}

/// Python's `_make_handshake_rejection`: what h11's client reads.
fn make_handshake_rejection(status_code: u16, body: Option<&'static [u8]>) -> (Head, Vec<u8>) {
    let mut server = WSConnection::new(ConnectionType::Server);
    let nonce = generate_nonce();
    server
        .receive_data(Some(&head(
            "GET / HTTP/1.1",
            &[
                ("Host", "localhost"),
                ("Connection", "Keep-Alive, Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", &nonce),
            ],
        )))
        .unwrap();
    let mut wire = Vec::new();
    match body {
        Some(body) => {
            let mut headers = HeaderMap::new();
            headers.insert("content-length", HeaderValue::from(body.len()));
            wire.extend_from_slice(
                &server
                    .send(RejectConnection {
                        headers,
                        status_code,
                        has_body: true,
                    })
                    .unwrap(),
            );
            wire.extend_from_slice(&server.send(RejectData::new(body)).unwrap());
        }
        None => wire.extend_from_slice(
            &server
                .send(RejectConnection {
                    status_code,
                    ..RejectConnection::default()
                })
                .unwrap(),
        ),
    }
    let response = parse_response(&wire);
    let body = response.rest.clone();
    (response, body)
}

/// DIFFERS (slightly): a rejection also says `Connection: close`, since the
/// transport closes after it.
#[test]
fn test_handshake_rejection() {
    let (response, body) = make_handshake_rejection(400, None);
    assert_eq!(response.status, Some(400));
    assert_eq!(response.normed("content-length").as_deref(), Some("0"));
    assert_eq!(response.normed("connection").as_deref(), Some("close"));
    assert!(body.is_empty());
}

#[test]
fn test_handshake_rejection_with_body() {
    let (response, body) = make_handshake_rejection(400, Some(b"Hello"));
    assert_eq!(response.status, Some(400));
    assert_eq!(response.normed("content-length").as_deref(), Some("5"));
    assert_eq!(body, b"Hello");
}
