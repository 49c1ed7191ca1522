//! A hostile peer against a real server: an in-process tokio echo server
//! (the serve loop of `examples/echo_server.rs`, from
//! `examples/support/echo.rs`) on 127.0.0.1, attacked over
//! TCP with each class of abuse the limits exist for. Each test checks the
//! server's answer (HTTP status, or the code of its close frame) and then
//! that the server still serves a fresh client: handshake and echo.

#[path = "../examples/support/echo.rs"]
mod echo;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use wsproto::handshake::ClientHandshake;
use wsproto::{Client, CloseCode, Config, Event, FixedKey, Open, Pending};

/// Every step of a test finishes well within this, or the test fails.
const STEP: Duration = Duration::from_secs(20);

// ---- the server (examples/support/echo.rs) -------------------------------------

/// The echo server with the defaults, but a 1 MiB message limit so that the
/// continuation flood crosses it after 1 MiB rather than 64, and a
/// lingering close: after answering, the server stops writing and discards
/// what the peer still sends for a while before closing, so that closing
/// with unread input (which makes the kernel send RST) cannot destroy the
/// answer before the peer reads it.
async fn start_server() -> SocketAddr {
    let echo = echo::Echo {
        config: Config::default().with_max_message_size(1 << 20),
        linger: Some(Duration::from_secs(2)),
        ..echo::Echo::default()
    };
    echo.spawn("127.0.0.1:0").await.expect("bind")
}

// ---- the hostile client ------------------------------------------------------

const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
                       Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

/// Sends raw request bytes; returns the response head.
async fn raw_handshake(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = timeout(STEP, stream.read(&mut buf))
            .await
            .expect("the server answers")
            .expect("read");
        assert!(n > 0, "closed without an answer");
        response.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&response).into_owned()
}

/// Opens a WebSocket connection with our own client.
async fn connect(addr: SocketAddr) -> (TcpStream, Open<Client>) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let url = format!("ws://{addr}/chat");
    let (mut pending, request) =
        Pending::<Client>::from_url(&url, Config::default(), Vec::new()).expect("request");
    stream.write_all(&request).await.expect("write");
    let mut buf = [0u8; 4096];
    let mut ws = loop {
        let n = timeout(STEP, stream.read(&mut buf))
            .await
            .expect("handshake in time")
            .expect("read");
        assert!(n > 0, "closed during the handshake");
        match pending.receive(&buf[..n]).expect("a valid response") {
            ClientHandshake::Pending(p) => pending = p,
            ClientHandshake::Open(ws, _) => break ws,
            ClientHandshake::Rejected(r) => panic!("rejected: {:?}", r.response()),
        }
    };
    ws.set_mask_source(Box::new(FixedKey(KEY)));
    (stream, ws)
}

/// Reads until an event matching `want` arrives; returns it.
async fn read_until(
    stream: &mut (impl AsyncReadExt + Unpin),
    ws: &mut Open<Client>,
    want: impl Fn(&Event) -> bool,
) -> Event {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(event) = ws.poll_event().expect("the server speaks the protocol") {
            if want(&event) {
                return event;
            }
        }
        let n = timeout(STEP, stream.read(&mut buf))
            .await
            .expect("the server answers in time")
            .expect("read");
        if n == 0 {
            ws.receive_eof();
        } else {
            ws.receive(&buf[..n]).unwrap();
        }
    }
}

/// Reads the server's close frame; returns its code.
async fn close_code(stream: &mut (impl AsyncReadExt + Unpin), ws: &mut Open<Client>) -> CloseCode {
    match read_until(stream, ws, |e| matches!(e, Event::Close(_))).await {
        Event::Close(frame) => frame.code,
        _ => unreachable!(),
    }
}

/// The server still serves: a fresh client connects and gets its echo.
async fn still_serves(addr: SocketAddr) {
    let (mut stream, mut ws) = connect(addr).await;
    ws.send_text("still there?").expect("send");
    stream.write_all(&ws.take_outgoing()).await.expect("write");
    let echo = read_until(&mut stream, &mut ws, |e| matches!(e, Event::Text(_))).await;
    assert_eq!(echo, Event::Text("still there?".into()));
}

const KEY: [u8; 4] = [0xA1, 0xB2, 0xC3, 0xD4];

/// A masked client frame with a header declaring `len` and `payload` after it.
fn raw_frame(first_byte: u8, len: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(&KEY);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    out
}

// ---- the attacks --------------------------------------------------------------

#[tokio::test]
async fn oversized_handshake_gets_431() {
    let addr = start_server().await;
    let mut request = REQUEST.to_owned();
    request.push_str("Sec-WebSocket-Version: 13\r\nX-Pad: ");
    request.push_str(&"a".repeat(20 << 10));
    request.push_str("\r\n\r\n");
    let response = raw_handshake(addr, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    still_serves(addr).await;
}

#[tokio::test]
async fn too_many_headers_gets_431() {
    let addr = start_server().await;
    let mut request = REQUEST.to_owned();
    request.push_str("Sec-WebSocket-Version: 13\r\n");
    for i in 0..100 {
        request.push_str(&format!("X-{i}: {i}\r\n"));
    }
    request.push_str("\r\n");
    let response = raw_handshake(addr, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    still_serves(addr).await;
}

#[tokio::test]
async fn bad_version_gets_426_with_the_supported_one() {
    let addr = start_server().await;
    let request = format!("{REQUEST}Sec-WebSocket-Version: 8\r\n\r\n");
    let response = raw_handshake(addr, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("sec-websocket-version: 13\r\n"),
        "{response}"
    );
    still_serves(addr).await;
}

#[tokio::test]
async fn length_with_the_msb_set_gets_1002() {
    let addr = start_server().await;
    let (mut stream, mut ws) = connect(addr).await;
    let mut bytes = vec![0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1];
    bytes.extend_from_slice(&KEY);
    stream.write_all(&bytes).await.expect("write");
    assert_eq!(
        close_code(&mut stream, &mut ws).await,
        CloseCode::PROTOCOL_ERROR
    );
    still_serves(addr).await;
}

#[tokio::test]
async fn declared_gigabyte_frame_gets_1009_at_once() {
    let addr = start_server().await;
    let (mut stream, mut ws) = connect(addr).await;
    // The header alone: the answer comes before any payload is sent.
    stream
        .write_all(&raw_frame(0x82, 1 << 30, &[]))
        .await
        .expect("write");
    assert_eq!(
        close_code(&mut stream, &mut ws).await,
        CloseCode::MESSAGE_TOO_BIG
    );
    still_serves(addr).await;
}

#[tokio::test]
async fn invalid_utf8_gets_1007() {
    let addr = start_server().await;
    let (mut stream, mut ws) = connect(addr).await;
    stream
        .write_all(&raw_frame(0x81, 4, b"ok\xC3\x28"))
        .await
        .expect("write");
    assert_eq!(
        close_code(&mut stream, &mut ws).await,
        CloseCode::INVALID_FRAME_PAYLOAD_DATA
    );
    still_serves(addr).await;
}

#[tokio::test]
async fn endless_continuation_frames_get_1009() {
    let addr = start_server().await;
    let (stream, mut ws) = connect(addr).await;
    let (mut read, mut write) = stream.into_split();
    // 4 KiB fragments, for up to 8 times the server's message limit; the
    // writer stops when the server has answered and hung up.
    let writer = tokio::spawn(async move {
        let fragment = raw_frame(0x00, 4096, &[b'z'; 4096]);
        let mut sent = raw_frame(0x02, 4096, &[b'z'; 4096]).len();
        write
            .write_all(&raw_frame(0x02, 4096, &[b'z'; 4096]))
            .await?;
        while sent < 8 << 20 {
            write.write_all(&fragment).await?;
            sent += fragment.len();
        }
        Ok::<_, std::io::Error>(sent)
    });
    assert_eq!(
        close_code(&mut read, &mut ws).await,
        CloseCode::MESSAGE_TOO_BIG
    );
    drop(read);
    // The writer ends one way or the other: all sent, or the pipe broke.
    let _ = timeout(STEP, writer).await.expect("the writer stops");
    still_serves(addr).await;
}

#[tokio::test]
async fn ping_flood_leaves_the_server_responsive() {
    let addr = start_server().await;
    let (stream, mut ws) = connect(addr).await;
    let (mut read, mut write) = stream.into_split();
    // 100,000 pings in one burst, then a message: its echo must come back
    // behind the pongs, which are read concurrently.
    let mut flood = Vec::with_capacity(100_000 * 10);
    for i in 0u32..100_000 {
        flood.extend(raw_frame(0x89, 4, &i.to_be_bytes()));
    }
    ws.send_text("after the flood").expect("send");
    flood.extend_from_slice(&ws.take_outgoing());
    let writer = tokio::spawn(async move {
        write.write_all(&flood).await?;
        Ok::<_, std::io::Error>(write)
    });
    let echo = read_until(&mut read, &mut ws, |e| matches!(e, Event::Text(_))).await;
    assert_eq!(echo, Event::Text("after the flood".into()));
    let _write = timeout(STEP, writer)
        .await
        .expect("the flood is written")
        .expect("join")
        .expect("write");
    still_serves(addr).await;
}
