//! wsproto behind a real hyper 1 server, `examples/hyper_server.rs` itself:
//! hyper parses the request, `wsproto::hyper::Upgrader` validates it and
//! builds the 101, and the stream it resolves to echoes on the upgraded
//! connection. Our sans-IO client connects over TCP.

// The example itself, so that this tests the code a reader copies; its
// `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/hyper_server.rs"]
mod hyper_server;
mod sockets;

use std::net::SocketAddr;

use bytes::Bytes;
use sockets::{connect, flush, next_event, read_to_eof};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsproto::{CloseCode, Event};

/// The example's server on 127.0.0.1; its tasks end with the test's
/// runtime.
async fn spawn_hyper_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(hyper_server::run(listener));
    addr
}

/// Sends a raw request and returns the response head, lowercased.
async fn raw_response_head(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(sockets::TIMEOUT, async {
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "EOF in the head");
            head.push(byte[0]);
        }
    })
    .await
    .expect("timed out reading the response");
    String::from_utf8(head).unwrap().to_ascii_lowercase()
}

#[tokio::test]
async fn our_client_through_hyper_upgrade() {
    let addr = spawn_hyper_server().await;
    let (mut stream, mut ws) = connect(addr, "/chat").await;

    ws.send_text("hello through hyper").unwrap();
    let big = sockets::binary_of(200_000);
    ws.send_binary(&big).unwrap();
    ws.send_ping(b"p").unwrap();
    flush(&mut stream, &mut ws).await;
    assert_eq!(
        next_event(&mut stream, &mut ws).await,
        Some(Event::Text("hello through hyper".into()))
    );
    assert_eq!(
        next_event(&mut stream, &mut ws).await,
        Some(Event::Binary(big.into()))
    );
    assert_eq!(
        next_event(&mut stream, &mut ws).await,
        Some(Event::Pong(Bytes::from_static(b"p")))
    );

    let mut closing = ws.close(CloseCode::NORMAL, "done");
    flush(&mut stream, &mut closing).await;
    match next_event(&mut stream, &mut closing).await {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the close reply, got {other:?}"),
    }
    assert_eq!(next_event(&mut stream, &mut closing).await, None);
    assert!(read_to_eof(&mut stream).await.is_empty());
    assert!(closing.into_closed().unwrap().was_clean());
}

#[tokio::test]
async fn hyper_answers_version_8_with_426() {
    let addr = spawn_hyper_server().await;
    let head = raw_response_head(
        addr,
        "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 8\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("http/1.1 426 "), "{head}");
    assert!(head.contains("\r\nsec-websocket-version: 13\r\n"), "{head}");
}

#[tokio::test]
async fn hyper_answers_a_bad_key_with_400_and_plain_requests_with_a_page() {
    let addr = spawn_hyper_server().await;
    let head = raw_response_head(
        addr,
        "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("http/1.1 400 "), "{head}");
    let head = raw_response_head(addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(head.starts_with("http/1.1 200 "), "{head}");
}
