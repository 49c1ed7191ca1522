//! Helpers shared by the integration tests that run over real sockets: our
//! echo server (the loop of `examples/echo_server.rs`, generic over the
//! transport so the hyper test runs it on an upgraded connection) and our
//! client driven over a tokio stream.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::IoSlice;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
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

/// Binds 127.0.0.1 on a free port and serves our echo server on it; the
/// accept loop is a task of the test's runtime, so it ends with the test.
pub async fn spawn_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = serve_tcp(stream).await;
            });
        }
    });
    addr
}

/// The server handshake over raw TCP, then the echo loop.
pub async fn serve_tcp(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut pending = Pending::<Server>::new(Config::default(), Vec::new());
    let mut buf = vec![0u8; 16 * 1024];
    let request = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        match pending.receive(&buf[..n]) {
            Ok(ServerHandshake::Pending(p)) => pending = p,
            Ok(ServerHandshake::Request(request)) => break request,
            Err(err) => {
                stream.write_all(&err.to_response()).await?;
                return stream.shutdown().await;
            }
        }
    };
    let ws = request
        .accept(Accept::new())
        .map_err(std::io::Error::other)?;
    serve_echo(stream, ws).await
}

/// Echoes every message until the close handshake is over, then closes the
/// transport (RFC 6455 §7.1.1: the server closes TCP first).
pub async fn serve_echo<S>(mut stream: S, mut ws: Open<Server>) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        loop {
            match ws.poll_event() {
                Ok(Some(Event::Text(text))) => {
                    let _ = ws.send_text_shared(text);
                }
                Ok(Some(Event::Binary(data))) => {
                    let _ = ws.send_binary_shared(data);
                }
                // Pongs and the close reply are queued automatically.
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        while ws.outgoing_len() > 0 {
            let mut slices = [IoSlice::new(&[]); 64];
            let count = ws.outgoing_slices(&mut slices);
            let written = stream.write_vectored(&slices[..count]).await?;
            if written == 0 {
                return Ok(());
            }
            ws.advance_outgoing(written);
        }
        if ws.is_closed() {
            return stream.shutdown().await;
        }
        let recv = ws.receive_buffer().map_err(std::io::Error::other)?;
        recv.reserve(64 * 1024);
        if stream.read_buf(recv).await? == 0 {
            ws.receive_eof();
        }
    }
}

/// Connects our client to `ws://{addr}{path}` over TCP and completes the
/// handshake.
pub async fn connect(addr: SocketAddr, path: &str) -> (TcpStream, Open<Client>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let url = format!("ws://{addr}{path}");
    let (mut pending, request) =
        Pending::<Client>::from_url(&url, Config::default(), Vec::new()).unwrap();
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
