//! Helpers shared by the integration tests that run over real sockets: our
//! client driven over a tokio stream, and payloads. Our echo server is
//! `examples/support/echo.rs`, which those tests include themselves.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wsproto::extensions::Extension;
use wsproto::handshake::{Accept, ClientHandshake, ServerHandshake};
use wsproto::phase::Phase;
use wsproto::{Client, Config, Connection, Event, Open, Pending, Role, Server};

/// Every socket operation of a test ends within this, so a bug fails the
/// test instead of hanging it.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Payload sizes that cross every frame-length encoding boundary of
/// RFC 6455 §5.2 (7-bit, 16-bit, 64-bit), plus a large message.
pub const SIZES: [usize; 6] = [0, 125, 126, 65535, 65536, 1 << 20];

/// A text payload of `len` bytes, ASCII so that any length is valid UTF-8.
pub fn text_of(len: usize) -> String {
    (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect()
}

/// A binary payload of `len` bytes with every byte value.
pub fn binary_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 256) as u8).collect()
}

/// Connects our client to `ws://{addr}{path}` over TCP and completes the
/// handshake.
pub async fn connect(addr: SocketAddr, path: &str) -> (TcpStream, Open<Client>) {
    connect_with_extensions(addr, path, Vec::new()).await
}

/// As [`connect`], offering `extensions`.
pub async fn connect_with_extensions(
    addr: SocketAddr,
    path: &str,
    extensions: Vec<Box<dyn Extension>>,
) -> (TcpStream, Open<Client>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let url = format!("ws://{addr}{path}");
    let (mut pending, request) =
        Pending::<Client>::from_url(&url, Config::default(), extensions).unwrap();
    stream.write_all(&request).await.unwrap();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed during the handshake");
        match pending.receive(&buf[..n]).unwrap() {
            ClientHandshake::Pending(p) => pending = p,
            ClientHandshake::Open(ws, response) => {
                assert_eq!(response.status(), 101);
                return (stream, ws);
            }
            ClientHandshake::Rejected(r) => panic!("rejected: {:?}", r.response()),
        }
    }
}

/// The server side of a handshake on `stream`: reads the request, accepts
/// it with `config` and no extensions, writes the 101.
pub async fn accept(stream: &mut TcpStream, config: Config) -> Open<Server> {
    let mut pending = Pending::<Server>::new(config, Vec::new());
    let mut buf = vec![0u8; 4096];
    let mut ws = loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed during the handshake");
        match pending.receive(&buf[..n]).unwrap() {
            ServerHandshake::Pending(next) => pending = next,
            ServerHandshake::Request(request) => break request.accept(Accept::new()).unwrap(),
        }
    };
    stream.write_all(&ws.take_outgoing()).await.unwrap();
    ws
}

/// Writes everything the connection queued.
pub async fn flush<R: Role, P: Phase, S: AsyncWrite + Unpin>(
    stream: &mut S,
    ws: &mut Connection<R, P>,
) {
    let out = ws.take_outgoing();
    if !out.is_empty() {
        stream.write_all(&out).await.unwrap();
    }
}

/// The next event, reading as needed (and writing automatic replies before
/// each read); `None` once no more can come. Panics on a protocol error or
/// after [`TIMEOUT`].
pub async fn next_event<R: Role, P: Phase, S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ws: &mut Connection<R, P>,
) -> Option<Event> {
    tokio::time::timeout(TIMEOUT, async {
        loop {
            if let Some(event) = ws.poll_event().expect("protocol error") {
                return Some(event);
            }
            flush(stream, ws).await;
            if ws.is_closed() {
                return None;
            }
            let recv = ws.receive_buffer().expect("events were polled");
            recv.reserve(64 * 1024);
            if stream.read_buf(recv).await.unwrap() == 0 {
                ws.receive_eof();
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}

/// Reads until the peer closes the transport; returns what was read after
/// the close handshake (it should be nothing).
pub async fn read_to_eof<S: AsyncRead + Unpin>(stream: &mut S) -> Vec<u8> {
    let mut rest = Vec::new();
    tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut rest))
        .await
        .expect("timed out waiting for the peer to close")
        .unwrap();
    rest
}
