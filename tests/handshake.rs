//! Opening-handshake vectors (RFC 6455 §4): the accept key, full exchanges
//! between our client and server under every chunking, subprotocol rules,
//! each server rejection with its status, and each client-side failure.

use bytes::Bytes;
use http::StatusCode;
use wsproto::handshake::{
    Accept, ClientHandshake, IncomingRequest, RejectData, ServerHandshake, UpgradeError,
    accept_key, upgrade,
};
use wsproto::{
    Client, Config, Event, HandshakeError, HandshakeErrorKind, LocalError, Open, Pending, Server,
};

/// Whole, 1-byte and odd-sized chunks.
const CHUNKINGS: [usize; 3] = [usize::MAX, 1, 7];

/// Feeds `bytes` to a server in chunks of `chunk` until the request is
/// complete; returns it and the bytes not fed yet.
fn server_feed(
    mut pending: Pending<Server>,
    bytes: &[u8],
    chunk: usize,
) -> Result<(IncomingRequest, &[u8]), HandshakeError> {
    let mut pos = 0;
    loop {
        assert!(pos < bytes.len(), "request incomplete after {pos} bytes");
        let end = pos.saturating_add(chunk).min(bytes.len());
        match pending.receive(&bytes[pos..end])? {
            ServerHandshake::Pending(p) => pending = p,
            ServerHandshake::Request(request) => return Ok((request, &bytes[end..])),
        }
        pos = end;
    }
}

/// Feeds `bytes` to a client in chunks until the handshake has an outcome;
/// returns it and the bytes not fed yet.
fn client_feed(
    mut pending: Pending<Client>,
    bytes: &[u8],
    chunk: usize,
) -> Result<(ClientHandshake, &[u8]), HandshakeError> {
    let mut pos = 0;
    loop {
        assert!(pos < bytes.len(), "response incomplete after {pos} bytes");
        let end = pos.saturating_add(chunk).min(bytes.len());
        match pending.receive(&bytes[pos..end])? {
            ClientHandshake::Pending(p) => pending = p,
            outcome => return Ok((outcome, &bytes[end..])),
        }
        pos = end;
    }
}

fn server(request: &str) -> Result<IncomingRequest, HandshakeError> {
    server_with(request, Config::default(), usize::MAX)
}

fn server_with(
    request: &str,
    config: Config,
    chunk: usize,
) -> Result<IncomingRequest, HandshakeError> {
    server_feed(
        Pending::<Server>::new(config, Vec::new()),
        request.as_bytes(),
        chunk,
    )
    .map(|(request, _)| request)
}

fn new_client(request: http::Request<()>) -> (Pending<Client>, Bytes) {
    Pending::<Client>::new(request, Config::default(), Vec::new()).unwrap()
}

/// The client's key, from the request it sent.
fn key_of(pending: &Pending<Client>) -> String {
    pending.request().unwrap().headers()["sec-websocket-key"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A valid 101 for `pending`'s request, with extra header lines.
fn switching_protocols(pending: &Pending<Client>, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_key(key_of(pending).as_bytes())
    )
}

/// A request from header lines (the request line first).
fn request(lines: &[&str]) -> String {
    let mut out = lines.join("\r\n");
    out.push_str("\r\n\r\n");
    out
}

const GET: &str = "GET /chat HTTP/1.1";
const HOST: &str = "Host: server.example.com";
const UPGRADE: &str = "Upgrade: websocket";
const CONNECTION: &str = "Connection: Upgrade";
const KEY: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
const VERSION: &str = "Sec-WebSocket-Version: 13";

// ---- the accept key ---------------------------------------------------------

#[test]
fn rfc_6455_section_1_3_example() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    let open = server(&request(&[GET, HOST, UPGRADE, CONNECTION, KEY, VERSION]))
        .unwrap()
        .accept(Accept::new());
    let response = open.unwrap().take_outgoing();
    let text = std::str::from_utf8(&response).unwrap().to_ascii_lowercase();
    assert!(
        text.starts_with("http/1.1 101 switching protocols\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\n"));
}

// ---- full exchanges -----------------------------------------------------------

/// Client request + early frames → server; 101 + a server frame → client;
/// with every chunking. Early bytes arriving behind the head must reach the
/// open connection, whether they came in the head's read or later.
#[test]
fn client_and_server_agree_under_every_chunking() {
    for chunk in CHUNKINGS {
        let (client, request_bytes) = new_client(
            http::Request::get("ws://example.com:8080/chat?room=1")
                .body(())
                .unwrap(),
        );
        let key = key_of(&client);
        // Frames the client sends before it has seen the response.
        let mut early = Open::<Client>::new(Config::default(), Vec::new());
        early.send_text("early").unwrap();
        early.send_binary(&[1, 2, 3]).unwrap();
        let mut wire = request_bytes.to_vec();
        wire.extend_from_slice(&early.take_outgoing());

        let (request, rest) = server_feed(
            Pending::<Server>::new(Config::default(), Vec::new()),
            &wire,
            chunk,
        )
        .unwrap();
        assert_eq!(request.request().uri(), "/chat?room=1");
        assert_eq!(request.request().headers()["host"], "example.com:8080");
        assert!(request.subprotocols().is_empty());
        let mut server = request.accept(Accept::new()).unwrap();
        for piece in rest.chunks(chunk.min(rest.len().max(1))) {
            server.receive(piece).unwrap();
        }
        assert_eq!(
            server.poll_event(),
            Ok(Some(Event::Text("early".into()))),
            "chunk {chunk}"
        );
        assert_eq!(
            server.poll_event(),
            Ok(Some(Event::Binary(Bytes::from_static(&[1, 2, 3]))))
        );
        assert_eq!(server.poll_event(), Ok(None));
        server.send_text("welcome").unwrap();

        let response_bytes = server.take_outgoing();
        let (outcome, rest) = client_feed(client, &response_bytes, chunk).unwrap();
        let ClientHandshake::Open(mut client, response) = outcome else {
            panic!("expected Open, got {outcome:?}");
        };
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            response.headers()["sec-websocket-accept"],
            accept_key(key.as_bytes()).as_str()
        );
        for piece in rest.chunks(chunk.min(rest.len().max(1))) {
            client.receive(piece).unwrap();
        }
        assert_eq!(client.poll_event(), Ok(Some(Event::Text("welcome".into()))));
        assert_eq!(client.poll_event(), Ok(None));
    }
}

/// A head exactly at the 16 KiB limit, fed one byte at a time: each byte is
/// scanned once, so this finishes quickly; only correctness is asserted.
#[test]
fn a_request_at_the_size_limit_fed_one_byte_at_a_time() {
    let config = Config::default();
    let base = request(&[GET, HOST, UPGRADE, CONNECTION, KEY, VERSION]);
    let overhead = base.len() + "X-Pad: \r\n".len();
    let pad = "p".repeat(config.max_handshake_size - overhead);
    let at_limit = request(&[
        GET,
        HOST,
        UPGRADE,
        CONNECTION,
        KEY,
        VERSION,
        &format!("X-Pad: {pad}"),
    ]);
    assert_eq!(at_limit.len(), config.max_handshake_size);
    let request = server_with(&at_limit, config.clone(), 1).unwrap();
    assert_eq!(request.request().headers()["x-pad"].len(), pad.len());
    assert!(request.accept(Accept::new()).is_ok());

    // One byte more is over the limit, whole or byte by byte.
    let over = request_over_limit(&config);
    for chunk in [usize::MAX, 1] {
        let err = server_feed(
            Pending::<Server>::new(config.clone(), Vec::new()),
            over.as_bytes(),
            chunk,
        )
        .unwrap_err();
        assert_eq!(err.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
}

fn request_over_limit(config: &Config) -> String {
    let base = request(&[GET, HOST, UPGRADE, CONNECTION, KEY, VERSION]);
    let pad = "p".repeat(config.max_handshake_size + 1 - base.len() - "X-Pad: \r\n".len());
    request(&[
        GET,
        HOST,
        UPGRADE,
        CONNECTION,
        KEY,
        VERSION,
        &format!("X-Pad: {pad}"),
    ])
}

// ---- subprotocols -------------------------------------------------------------

fn client_offering(protocols: &str) -> (Pending<Client>, Bytes) {
    new_client(
        http::Request::get("ws://example.com/chat")
            .header("sec-websocket-protocol", protocols)
            .body(())
            .unwrap(),
    )
}

#[test]
fn the_selected_subprotocol_is_one_the_client_offered() {
    let (client, request_bytes) = client_offering("chat, superchat");
    let (request, _) = server_feed(
        Pending::<Server>::new(Config::default(), Vec::new()),
        &request_bytes,
        usize::MAX,
    )
    .unwrap();
    assert_eq!(request.subprotocols(), ["chat", "superchat"]);
    let mut server = request
        .accept(Accept::new().subprotocol("superchat"))
        .unwrap();
    let (outcome, _) = client_feed(client, &server.take_outgoing(), usize::MAX).unwrap();
    let ClientHandshake::Open(_, response) = outcome else {
        panic!("expected Open, got {outcome:?}");
    };
    assert_eq!(response.headers()["sec-websocket-protocol"], "superchat");
}

#[test]
fn a_server_cannot_select_an_unoffered_subprotocol() {
    let (_, request_bytes) = client_offering("chat");
    let (request, _) = server_feed(
        Pending::<Server>::new(Config::default(), Vec::new()),
        &request_bytes,
        usize::MAX,
    )
    .unwrap();
    assert_eq!(
        request
            .accept(Accept::new().subprotocol("superchat"))
            .unwrap_err(),
        LocalError::SubprotocolNotOffered("superchat".into())
    );

    // The hyper path reports the same misuse as the caller's error, not the
    // request's; a server answers it with 500.
    let request = http::Request::get("/chat")
        .header("host", "example.com")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-protocol", "chat")
        .body(())
        .unwrap();
    let err = upgrade(
        &request,
        Accept::new().subprotocol("other"),
        Config::default(),
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        UpgradeError::Accept(LocalError::SubprotocolNotOffered("other".into()))
    );
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // A bad request is the request's error, with its status hint.
    let mut bad = request.clone();
    bad.headers_mut().remove("sec-websocket-key");
    let err = upgrade(&bad, Accept::new(), Config::default(), Vec::new()).unwrap_err();
    let UpgradeError::Request(err) = err else {
        panic!("expected a request error, got {err:?}");
    };
    assert_eq!(err.status, StatusCode::BAD_REQUEST);
    let (response, _) = upgrade(
        &request,
        Accept::new().subprotocol("chat"),
        Config::default(),
        Vec::new(),
    )
    .unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
}

#[test]
fn a_client_rejects_an_unoffered_subprotocol() {
    let (client, _) = client_offering("chat");
    let response = switching_protocols(&client, "Sec-WebSocket-Protocol: superchat\r\n");
    assert!(client.receive(response.as_bytes()).is_err());

    // Nor may the server select one when none was offered.
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let response = switching_protocols(&client, "Sec-WebSocket-Protocol: chat\r\n");
    assert!(client.receive(response.as_bytes()).is_err());
}

// ---- server rejections ----------------------------------------------------------

#[test]
fn every_server_rejection_has_its_status() {
    let bad_request = StatusCode::BAD_REQUEST;
    let cases: &[(&str, &[&str], StatusCode)] = &[
        (
            "not GET",
            &[
                "POST /chat HTTP/1.1",
                HOST,
                UPGRADE,
                CONNECTION,
                KEY,
                VERSION,
            ],
            bad_request,
        ),
        (
            "HTTP/1.0",
            &[
                "GET /chat HTTP/1.0",
                HOST,
                UPGRADE,
                CONNECTION,
                KEY,
                VERSION,
            ],
            bad_request,
        ),
        (
            "missing Host",
            &[GET, UPGRADE, CONNECTION, KEY, VERSION],
            bad_request,
        ),
        (
            "two Hosts",
            &[GET, HOST, HOST, UPGRADE, CONNECTION, KEY, VERSION],
            bad_request,
        ),
        (
            "missing Upgrade",
            &[GET, HOST, CONNECTION, KEY, VERSION],
            bad_request,
        ),
        (
            "wrong Upgrade",
            &[GET, HOST, "Upgrade: h2c", CONNECTION, KEY, VERSION],
            bad_request,
        ),
        (
            "missing Connection",
            &[GET, HOST, UPGRADE, KEY, VERSION],
            bad_request,
        ),
        (
            "Connection lacks upgrade",
            &[GET, HOST, UPGRADE, "Connection: keep-alive", KEY, VERSION],
            bad_request,
        ),
        (
            "Connection token as substring",
            &[GET, HOST, UPGRADE, "Connection: upgraded", KEY, VERSION],
            bad_request,
        ),
        (
            "missing Key",
            &[GET, HOST, UPGRADE, CONNECTION, VERSION],
            bad_request,
        ),
        (
            "Key not base64",
            &[
                GET,
                HOST,
                UPGRADE,
                CONNECTION,
                "Sec-WebSocket-Key: not base64 at all!",
                VERSION,
            ],
            bad_request,
        ),
        (
            "Key of 5 bytes",
            &[
                GET,
                HOST,
                UPGRADE,
                CONNECTION,
                "Sec-WebSocket-Key: c2hvcnQ=",
                VERSION,
            ],
            bad_request,
        ),
        (
            "Key of 17 bytes",
            &[
                GET,
                HOST,
                UPGRADE,
                CONNECTION,
                "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=",
                VERSION,
            ],
            bad_request,
        ),
        (
            "duplicate Key",
            &[GET, HOST, UPGRADE, CONNECTION, KEY, KEY, VERSION],
            bad_request,
        ),
        (
            "duplicate Version",
            &[GET, HOST, UPGRADE, CONNECTION, KEY, VERSION, VERSION],
            bad_request,
        ),
        (
            "Version 8",
            &[
                GET,
                HOST,
                UPGRADE,
                CONNECTION,
                KEY,
                "Sec-WebSocket-Version: 8",
            ],
            StatusCode::UPGRADE_REQUIRED,
        ),
        (
            "malformed request line",
            &["GET /chat", HOST, UPGRADE, CONNECTION, KEY, VERSION],
            bad_request,
        ),
    ];
    for (name, lines, status) in cases {
        for chunk in CHUNKINGS {
            let err = server_with(&request(lines), Config::default(), chunk).expect_err(name);
            assert_eq!(err.status, *status, "{name}: {err}");
            let response = err.to_response();
            let prefix = format!("HTTP/1.1 {} ", status.as_u16());
            assert!(response.starts_with(prefix.as_bytes()), "{name}");
        }
    }
}

#[test]
fn version_8_gets_426_naming_version_13() {
    let err = server(&request(&[
        GET,
        HOST,
        UPGRADE,
        CONNECTION,
        KEY,
        "Sec-WebSocket-Version: 8",
    ]))
    .unwrap_err();
    assert_eq!(err.status, StatusCode::UPGRADE_REQUIRED);
    let response = String::from_utf8(err.to_response().to_vec()).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{response}"
    );
    // Header names are case-insensitive (RFC 9110 §5.1); ours are written
    // lowercase, as the `http` crate stores them.
    assert!(
        response
            .to_ascii_lowercase()
            .contains("\r\nsec-websocket-version: 13\r\n"),
        "{response}"
    );
}

#[test]
fn header_tokens_are_case_insensitive_within_lists() {
    let accepted: &[&[&str]] = &[
        &[
            GET,
            HOST,
            UPGRADE,
            "Connection: keep-alive, Upgrade",
            KEY,
            VERSION,
        ],
        &[
            GET,
            HOST,
            UPGRADE,
            "Connection: KEEP-ALIVE,upgrade",
            KEY,
            VERSION,
        ],
        &[
            GET,
            HOST,
            UPGRADE,
            "Connection: keep-alive",
            "Connection: Upgrade",
            KEY,
            VERSION,
        ],
        &[GET, HOST, "Upgrade: WebSocket", CONNECTION, KEY, VERSION],
        &[
            GET,
            HOST,
            "Upgrade: foo/2, websocket",
            CONNECTION,
            KEY,
            VERSION,
        ],
        &[
            GET,
            "host: server.example.com",
            "upgrade: websocket",
            "connection: upgrade",
            "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
            "sec-websocket-version: 13",
        ],
    ];
    for lines in accepted {
        let request = server(&request(lines)).unwrap_or_else(|e| panic!("{lines:?}: {e}"));
        assert!(request.accept(Accept::new()).is_ok());
    }
}

#[test]
fn limits_answer_431() {
    let config = Config::default();
    let err = server(&request_over_limit(&config)).unwrap_err();
    assert_eq!(err.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(err.to_response().starts_with(b"HTTP/1.1 431 "));

    // A head with no end at all is cut off at the limit too.
    let endless = "GET /".to_owned() + &"a".repeat(config.max_handshake_size + 10);
    let err = server(&endless).unwrap_err();
    assert_eq!(err.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    let extra: Vec<String> = (0..config.max_headers)
        .map(|i| format!("X-H{i}: {i}"))
        .collect();
    let mut lines = vec![GET, HOST, UPGRADE, CONNECTION, KEY, VERSION];
    lines.extend(extra.iter().map(String::as_str));
    let err = server(&request(&lines)).unwrap_err();
    assert_eq!(err.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(err.to_response().starts_with(b"HTTP/1.1 431 "));

    // Exactly max_headers is fine (the request line is not a header).
    let lines = &lines[..=config.max_headers];
    assert!(server(&request(lines)).is_ok());
}

#[test]
fn a_server_rejection_by_the_application() {
    let request = server(&request(&[GET, HOST, UPGRADE, CONNECTION, KEY, VERSION])).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("x-why", http::HeaderValue::from_static("closed today"));
    let bytes = request.reject(StatusCode::FORBIDDEN, &headers, b"no");
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{text}");
    assert!(text.contains("x-why: closed today\r\n"), "{text}");
    assert!(text.contains("content-length: 2\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nno"), "{text}");
}

// ---- client-side outcomes ---------------------------------------------------------

#[test]
fn a_rejection_streams_its_body_across_reads() {
    for chunk in CHUNKINGS {
        let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
        let head =
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbid";
        let (outcome, rest) = client_feed(client, head.as_bytes(), chunk).unwrap();
        let ClientHandshake::Rejected(mut rejected) = outcome else {
            panic!("expected Rejected, got {outcome:?}");
        };
        assert_eq!(rejected.response().status(), StatusCode::FORBIDDEN);
        assert_eq!(rejected.response().headers()["content-type"], "text/plain");
        assert!(rejected.has_body());
        let mut body = Vec::new();
        let mut finished = 0;
        let mut drain = |rejected: &mut wsproto::handshake::Rejected| {
            while let Some(RejectData {
                data,
                body_finished,
            }) = rejected.poll_body()
            {
                body.extend_from_slice(&data);
                finished += usize::from(body_finished);
            }
        };
        for piece in rest.chunks(chunk.min(rest.len().max(1))) {
            rejected.receive(piece).unwrap();
            drain(&mut rejected);
        }
        drain(&mut rejected);
        // The rest of the body in a later read, followed by bytes past the
        // body's end, which are dropped.
        rejected.receive(b"den").unwrap();
        drain(&mut rejected);
        rejected.receive(b"trailing garbage").unwrap();
        drain(&mut rejected);
        assert_eq!(body, b"forbidden", "chunk {chunk}");
        assert_eq!(finished, 1, "the end is reported once");
    }
}

#[test]
fn a_rejection_without_length_ends_at_eof() {
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let ClientHandshake::Rejected(mut rejected) = client
        .receive(b"HTTP/1.1 500 Internal Server Error\r\n\r\noops")
        .unwrap()
    else {
        panic!("expected Rejected");
    };
    assert!(rejected.has_body());
    assert_eq!(
        rejected.poll_body(),
        Some(RejectData {
            data: Bytes::from_static(b"oops"),
            body_finished: false
        })
    );
    assert_eq!(rejected.poll_body(), None);
    rejected.receive_eof();
    assert_eq!(
        rejected.poll_body(),
        Some(RejectData {
            data: Bytes::new(),
            body_finished: true
        })
    );
    assert_eq!(rejected.poll_body(), None);

    // An empty body reports nothing.
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let ClientHandshake::Rejected(mut rejected) = client
        .receive(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        .unwrap()
    else {
        panic!("expected Rejected");
    };
    assert!(!rejected.has_body());
    assert_eq!(rejected.poll_body(), None);
}

/// Builds a response from the `Sec-WebSocket-Accept` value that matches.
type ResponseFor = dyn Fn(&str) -> String;

#[test]
fn a_client_fails_bad_101_responses() {
    let cases: &[(&str, &ResponseFor)] = &[
        ("wrong Accept", &|_| {
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                .to_owned()
        }),
        ("missing Accept", &|_| {
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                .to_owned()
        }),
        ("missing Upgrade", &|accept| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\r\n"
            )
        }),
        ("wrong Upgrade", &|accept| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\r\n"
            )
        }),
        ("missing Connection", &|accept| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\r\n"
            )
        }),
        ("extension not offered", &|accept| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            )
        }),
        ("malformed", &|_| "HTTP/1.1 1O1 Nope\r\n\r\n".to_owned()),
    ];
    for (name, response) in cases {
        let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
        let accept = accept_key(key_of(&client).as_bytes());
        let response = response(&accept);
        assert!(client.receive(response.as_bytes()).is_err(), "{name}");
    }

    // The control: the same response done right opens.
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let response = switching_protocols(&client, "");
    assert!(matches!(
        client.receive(response.as_bytes()),
        Ok(ClientHandshake::Open(..))
    ));
}

#[test]
fn the_client_request_has_every_required_header() {
    let (client, bytes) = new_client(
        http::Request::get("ws://example.com:80/a/b?c=d")
            .body(())
            .unwrap(),
    );
    let text = std::str::from_utf8(&bytes).unwrap().to_ascii_lowercase();
    assert!(text.starts_with("get /a/b?c=d http/1.1\r\n"), "{text}");
    // The default port is left out of Host (RFC 6455 §4.1, item 4).
    assert!(text.contains("\r\nhost: example.com\r\n"), "{text}");
    assert!(text.contains("\r\nupgrade: websocket\r\n"), "{text}");
    assert!(text.contains("\r\nconnection: upgrade\r\n"), "{text}");
    assert!(text.contains("\r\nsec-websocket-version: 13\r\n"), "{text}");
    // §4.1: a fresh 16-byte nonce, base64-encoded.
    let key = key_of(&client);
    assert_eq!(key.len(), 24);
    let (other, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    assert_ne!(key, key_of(&other));
    assert!(
        Pending::<Client>::from_url("ftp://example.com/", Config::default(), Vec::new()).is_err()
    );
    assert!(Pending::<Client>::from_url("/no-host", Config::default(), Vec::new()).is_err());
}

// ---- failing early: bytes that cannot begin HTTP/1.1 ------------------------------

/// Feeds `bytes` one at a time to a server; returns how many were taken
/// before the error, or `None` when every byte left it pending.
fn server_fails_at(bytes: &[u8]) -> Option<(usize, HandshakeError)> {
    let mut pending = Pending::<Server>::new(Config::default(), Vec::new());
    for (i, b) in bytes.iter().enumerate() {
        match pending.receive(&[*b]) {
            Ok(ServerHandshake::Pending(p)) => pending = p,
            Ok(ServerHandshake::Request(_)) => panic!("{bytes:?} was accepted"),
            Err(err) => return Some((i, err)),
        }
    }
    None
}

fn client_fails_at(bytes: &[u8]) -> Option<(usize, HandshakeError)> {
    let (mut pending, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    for (i, b) in bytes.iter().enumerate() {
        match pending.receive(&[*b]) {
            Ok(ClientHandshake::Pending(p)) => pending = p,
            Ok(_) => panic!("{bytes:?} was accepted"),
            Err(err) => return Some((i, err)),
        }
    }
    None
}

/// The start of a TLS 1.2 ClientHello record: handshake (0x16), TLS 1.0.
const CLIENT_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
];

#[test]
fn a_server_fails_a_tls_client_hello_at_its_first_byte() {
    let (at, err) = server_fails_at(CLIENT_HELLO).expect("rejected");
    assert_eq!(at, 0);
    assert_eq!(err.status, StatusCode::BAD_REQUEST);
    // Whole, too.
    let err = Pending::<Server>::new(Config::default(), Vec::new())
        .receive(CLIENT_HELLO)
        .unwrap_err();
    assert_eq!(err.status, StatusCode::BAD_REQUEST);
}

#[test]
fn a_server_fails_a_request_line_at_the_byte_that_rules_it_out() {
    // (input, index of the first byte that rules out an HTTP/1.1 request line)
    let cases: &[(&[u8], usize)] = &[
        (b"\x00", 0),
        (b" GET / HTTP/1.1\r\n", 0),
        (b"G(T / HTTP/1.1\r\n", 1),
        (b"GET  / HTTP/1.1\r\n", 4),
        (b"GET /\x01 HTTP/1.1\r\n", 5),
        (b"GET / HTTP/2.0\r\n", 11),
        (b"GET / http/1.1\r\n", 6),
        (b"GET / HTTP/1.x\r\n", 13),
        (b"GET / HTTP/1.1 \r\n", 14),
        (b"GET / HTTP/1.1\n", 14),
        (b"GET / HTTP/1.1\r\r", 15),
        (b"GET /\r\n", 5),
        (b"GET\r\n", 3),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 11),
    ];
    for (input, expected) in cases {
        let (at, err) = server_fails_at(input)
            .unwrap_or_else(|| panic!("{:?} stayed pending", String::from_utf8_lossy(input)));
        assert_eq!(at, *expected, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }
    // Every prefix of a valid request line stays pending.
    assert!(server_fails_at(b"GET /chat?x=1 HTTP/1.1\r\nHost: a\r\n").is_none());
    assert!(server_fails_at(b"M-SEARCH * HTTP/1.0\r\n").is_none());
}

#[test]
fn a_client_fails_a_response_that_is_not_http_1() {
    let cases: &[(&[u8], usize)] = &[
        (CLIENT_HELLO, 0),
        (b"\x15\x03\x03\x00\x02\x02\x28", 0), // a TLS alert
        (b"SSH-2.0-OpenSSH_9.6\r\n", 0),
        (b"HTTP/2 200\r\n", 5),
        (b"HTTP/1.1 1O1 Nope\r\n", 10),
        (b"HTTP/1.1  101\r\n", 9),
        (b"HTTP/1.1 101 Switching\x01\r\n", 22),
        (b"HTTP/1.1 101\n", 12),
    ];
    for (input, expected) in cases {
        let (at, _) = client_fails_at(input)
            .unwrap_or_else(|| panic!("{:?} stayed pending", String::from_utf8_lossy(input)));
        assert_eq!(at, *expected, "{:?}", String::from_utf8_lossy(input));
    }
    assert!(client_fails_at(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n").is_none());
    assert!(client_fails_at(b"HTTP/1.0 404\r\nA: b\r\n").is_none());
}

// ---- statuses ----------------------------------------------------------------------

#[test]
fn a_missing_version_is_a_bad_request_and_an_unknown_one_426() {
    let err = server(&request(&[GET, HOST, UPGRADE, CONNECTION, KEY])).unwrap_err();
    assert_eq!(err.status, StatusCode::BAD_REQUEST, "{err}");
    // No `Sec-WebSocket-Version: 13` header: that is the 426 answer.
    let response = String::from_utf8(err.to_response().to_vec()).unwrap();
    let head = &response[..response.find("\r\n\r\n").unwrap()];
    assert!(
        !head.to_ascii_lowercase().contains("sec-websocket-version"),
        "{head}"
    );
    for version in ["8", "14", "13, 8", "abc"] {
        let version = format!("Sec-WebSocket-Version: {version}");
        let err = server(&request(&[GET, HOST, UPGRADE, CONNECTION, KEY, &version])).unwrap_err();
        assert_eq!(err.status, StatusCode::UPGRADE_REQUIRED, "{version}");
    }
}

#[test]
fn a_client_failure_carries_the_status_received() {
    // A 101 whose accept value is wrong: the status received is 101.
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                    Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    let err = client.receive(response.as_bytes()).unwrap_err();
    assert_eq!(err.status, StatusCode::SWITCHING_PROTOCOLS, "{err}");
    // The same through `finish`, with another status.
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let response = http::Response::builder().status(503).body(()).unwrap();
    assert_eq!(
        client.finish(&response).unwrap_err().status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

// ---- chunked rejection bodies --------------------------------------------------------

/// Feeds a rejection split at `cut` and collects the body and how many times
/// its end was reported.
fn chunked_body(wire: &[u8], cuts: &[usize]) -> (Vec<u8>, usize) {
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let head_end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let ClientHandshake::Rejected(mut rejected) = client.receive(&wire[..head_end]).unwrap() else {
        panic!("expected Rejected");
    };
    let mut body = Vec::new();
    let mut finished = 0;
    let mut from = head_end;
    for &cut in cuts.iter().chain(std::iter::once(&wire.len())) {
        let cut = cut.clamp(from, wire.len());
        let _ = rejected.receive(&wire[from..cut]);
        from = cut;
        while let Some(piece) = rejected.poll_body() {
            body.extend_from_slice(&piece.data);
            finished += usize::from(piece.body_finished);
        }
    }
    (body, finished)
}

#[test]
fn a_chunked_rejection_body_is_decoded_at_every_split() {
    let wire: &[u8] = b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n\
        4\r\nforb\r\n5;name=\"v\"\r\nidden\r\nA\r\n, go away\n\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
    for cut in 0..=wire.len() {
        let (body, finished) = chunked_body(wire, &[cut]);
        assert_eq!(body, b"forbidden, go away\n", "cut at {cut}");
        assert_eq!(finished, 1, "cut at {cut}");
    }
    // Every byte on its own.
    let cuts: Vec<usize> = (0..wire.len()).collect();
    let (body, finished) = chunked_body(wire, &cuts);
    assert_eq!(body, b"forbidden, go away\n");
    assert_eq!(finished, 1);
}

// ---- from_url ----------------------------------------------------------------------

#[test]
fn from_url_takes_ws_and_wss_urls_only() {
    let from_url = |url: &str| Pending::<Client>::from_url(url, Config::default(), Vec::new());
    for bad in [
        "ws://example.com:99999/",
        "ws://example.com:65536/",
        "ws://example.com:/",
        "example.com/chat",
        "example.com:80",
        "/chat",
        "http://example.com/",
        "https://example.com/",
        "ftp://example.com/",
        "ws:///chat",
        "not a url",
    ] {
        assert!(from_url(bad).is_err(), "{bad}");
    }
    let (client, bytes) = from_url("wss://example.com:8443/chat?x=1").unwrap();
    assert!(bytes.starts_with(b"GET /chat?x=1 HTTP/1.1\r\n"));
    assert_eq!(
        client.request().unwrap().headers()["host"],
        "example.com:8443"
    );
    // Schemes are case-insensitive (RFC 3986 §3.1); the host is sent as given.
    let (client, _) = from_url("WS://Example.com").unwrap();
    assert_eq!(client.request().unwrap().headers()["host"], "Example.com");
    let target = client.target().unwrap();
    assert_eq!(
        (target.host.as_str(), target.port, target.tls),
        ("Example.com", 80, false)
    );

    // `new` still takes a path with a Host header.
    let (_, bytes) = new_client(
        http::Request::get("/chat")
            .header("host", "example.com:9000")
            .body(())
            .unwrap(),
    );
    assert!(bytes.starts_with(b"GET /chat HTTP/1.1\r\n"));
}

#[test]
fn a_malformed_chunked_body_is_an_error_with_the_rejection_status() {
    let head = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
    let long_line = format!("5;{}\r\n", "x".repeat(5000));
    let cases: &[(&str, &[u8])] = &[
        ("not hex", b"zz\r\n"),
        ("no digits", b";ext\r\n"),
        ("overflow", b"10000000000000000\r\n"),
        ("bare LF after size", b"5\nhello\r\n"),
        ("data without CRLF", b"5\r\nhelloX\r\n"),
        ("chunk-size line too long", long_line.as_bytes()),
    ];
    for (name, body) in cases {
        for chunk in [usize::MAX, 1] {
            let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
            let ClientHandshake::Rejected(mut rejected) = client.receive(head.as_bytes()).unwrap()
            else {
                panic!("expected Rejected");
            };
            let err = body
                .chunks(chunk.min(body.len()))
                .find_map(|piece| rejected.receive(piece).err())
                .unwrap_or_else(|| panic!("{name} was accepted"));
            assert_eq!(err.status, StatusCode::NOT_FOUND, "{name}");
            assert_eq!(err.kind, HandshakeErrorKind::BadResponse, "{name}");
            // The error sticks, and the end of the body is never reported.
            assert!(rejected.receive(b"0\r\n\r\n").is_err());
            while let Some(piece) = rejected.poll_body() {
                assert!(!piece.body_finished, "{name}");
            }
        }
    }
    // A declared size of 2^64-1 allocates nothing; the data is what arrives.
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let wire = format!("{head}FFFFFFFFFFFFFFFF\r\nabc");
    let ClientHandshake::Rejected(mut rejected) = client.receive(wire.as_bytes()).unwrap() else {
        panic!("expected Rejected");
    };
    let piece = rejected.poll_body().unwrap();
    assert_eq!((&piece.data[..], piece.body_finished), (&b"abc"[..], false));
}

#[test]
fn responses_without_content_report_no_body() {
    for status in ["204 No Content", "304 Not Modified"] {
        let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
        let wire = format!("HTTP/1.1 {status}\r\n\r\n");
        let ClientHandshake::Rejected(mut rejected) = client.receive(wire.as_bytes()).unwrap()
        else {
            panic!("expected Rejected");
        };
        assert!(!rejected.has_body(), "{status}");
        assert_eq!(rejected.poll_body(), None);
    }
}

#[test]
fn client_errors_say_which_side_found_the_fault() {
    // Unreadable: no status was received.
    let (at, err) = client_fails_at(CLIENT_HELLO).unwrap();
    assert_eq!(at, 0);
    assert_eq!(err.kind, HandshakeErrorKind::MalformedResponse);
    assert_eq!(err.status, StatusCode::BAD_GATEWAY);
    // A 101 refused by the client.
    let (client, _) = new_client(http::Request::get("ws://example.com/").body(()).unwrap());
    let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
    let err = client.receive(response.as_bytes()).unwrap_err();
    assert_eq!(
        (err.kind, err.status),
        (
            HandshakeErrorKind::BadResponse,
            StatusCode::SWITCHING_PROTOCOLS
        )
    );
    // A server's refusal.
    let err = server(&request(&[GET, UPGRADE, CONNECTION, KEY, VERSION])).unwrap_err();
    assert_eq!(err.kind, HandshakeErrorKind::BadRequest);
    // The caller's input.
    let err = Pending::<Client>::from_url("http://example.com/", Config::default(), Vec::new())
        .unwrap_err();
    assert_eq!(
        (err.kind, err.status),
        (HandshakeErrorKind::Local, StatusCode::INTERNAL_SERVER_ERROR)
    );
}
