//! `examples/proxy.rs` over real sockets on 127.0.0.1, in front of
//! `examples/echo_server.rs`'s serve loop or a backend written here:
//! Python's `websockets` through it, with and without permessage-deflate;
//! 1,000 small messages in flight; pings and the close handshake end to end;
//! a protocol error on either leg closing both with the right codes; the
//! path, query and headers the backend is asked for; a `wss://` backend;
//! and a
//! 256 MiB message streamed through a proxy running as its own process,
//! whose peak RSS (VmHWM) stays under 32 MiB.
//!
//! The example is compiled in here, so the code under test is its code.

#[allow(dead_code)] // its server helpers are for python_interop.rs
mod python;
mod sockets;
#[cfg(feature = "rustls")]
mod tls;

#[path = "../examples/support/echo.rs"]
mod echo;
#[allow(dead_code)]
#[path = "../examples/proxy.rs"]
mod proxy;

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sockets::{TIMEOUT, flush, next_event};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::frame::{FrameHeader, Opcode, Rsv};
use wsproto::stream::{self, Message};
use wsproto::{Client, CloseCode, Config, Event, MessageKind, MessageMode, Open};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The echo server's serve loop (with permessage-deflate offered) on a free
/// port.
async fn echo_backend() -> SocketAddr {
    echo::Echo {
        deflate: true,
        ..echo::Echo::default()
    }
    .spawn("127.0.0.1:0")
    .await
    .unwrap()
}

/// The proxy on a free port, in front of `backend`; it ends with the test.
async fn spawn_proxy(backend: SocketAddr) -> SocketAddr {
    spawn_proxy_for(format!("ws://{backend}/")).await
}

/// The proxy on a free port, in front of the backend at `url`.
async fn spawn_proxy_for(url: String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(proxy::run(listener, url));
    addr
}

/// The status the proxy at `addr` refuses a client asking for `path` with.
async fn refused_with(addr: SocketAddr, path: &str) -> http::StatusCode {
    let request = http::Request::get(format!("ws://{addr}{path}"))
        .body(())
        .unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    match tokio::time::timeout(TIMEOUT, stream::client_async(request, tcp))
        .await
        .unwrap()
    {
        Err(stream::Error::Rejected(rejected)) => rejected.status(),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

/// Our client through the proxy, with permessage-deflate offered or not.
async fn connect(addr: SocketAddr, deflate: bool) -> (TcpStream, Open<Client>) {
    connect_with(addr, deflate.then(DeflateConfig::default)).await
}

/// Our client through the proxy, offering permessage-deflate with `deflate`.
async fn connect_with(
    addr: SocketAddr,
    deflate: Option<DeflateConfig>,
) -> (TcpStream, Open<Client>) {
    let extensions: Vec<Box<dyn Extension>> = match deflate {
        Some(config) => vec![Box::new(PerMessageDeflate::new(config))],
        None => Vec::new(),
    };
    sockets::connect_with_extensions(addr, "/", extensions).await
}

/// Runs `echo_client.py` through a proxy in front of the echo server.
async fn python_through_proxy(deflate: bool) {
    let Some(python) = python::python() else {
        return;
    };
    let proxy = spawn_proxy(echo_backend().await).await;
    let url = format!("ws://{proxy}/");
    let mut args = vec![url.as_str()];
    if deflate {
        args.push("--deflate");
    }
    match python::run_script(python, "echo_client.py", &args, SCRIPT_TIMEOUT).await {
        Ok(out) => assert_eq!(out.trim(), "ok"),
        Err(why) => panic!("{why}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_through_the_proxy_to_echo_server() {
    python_through_proxy(false).await;
}

/// The script checks that permessage-deflate was negotiated: the proxy
/// answered the client with the parameters the echo server chose, and
/// relayed the compressed frames untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_through_the_proxy_to_echo_server_with_deflate() {
    python_through_proxy(true).await;
}

async fn thousand_in_flight(deflate: bool) {
    let proxy = spawn_proxy(echo_backend().await).await;
    let (mut tcp, mut ws) = connect(proxy, deflate).await;
    assert_eq!(
        ws.extensions().len(),
        usize::from(deflate),
        "deflate negotiated through the proxy"
    );
    let message = |i: usize| format!("message {i} of 1000, {}", "x".repeat(i % 50));
    for i in 0..1000 {
        if i % 2 == 0 {
            ws.send_text(&message(i)).unwrap();
        } else {
            ws.send_binary(message(i).as_bytes()).unwrap();
        }
    }
    // All 1,000 are written before the first echo is read.
    flush(&mut tcp, &mut ws).await;
    for i in 0..1000 {
        let expected = if i % 2 == 0 {
            Event::Text(message(i).into())
        } else {
            Event::Binary(message(i).into())
        };
        assert_eq!(next_event(&mut tcp, &mut ws).await, Some(expected), "{i}");
    }
    let mut closing = ws.close(CloseCode::NORMAL, "done");
    flush(&mut tcp, &mut closing).await;
    match next_event(&mut tcp, &mut closing).await {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    assert!(closing.into_closed().unwrap().was_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_small_messages_in_flight() {
    thousand_in_flight(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_small_messages_in_flight_with_deflate() {
    thousand_in_flight(true).await;
}

/// Echoes `count` messages of compressible text through `ws`, checking each.
async fn echo_round_trips(tcp: &mut TcpStream, ws: &mut Open<Client>, id: usize, count: usize) {
    for i in 0..count {
        let text = format!("client {id}, message {i}: ").repeat(1 + i % 7);
        ws.send_text(&text).unwrap();
        flush(tcp, ws).await;
        assert_eq!(next_event(tcp, ws).await, Some(Event::Text(text.into())));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_at_once() {
    let proxy = spawn_proxy(echo_backend().await).await;
    let clients: Vec<_> = (0..50)
        .map(|id| {
            tokio::spawn(async move {
                let (mut tcp, mut ws) = connect(proxy, id % 2 == 0).await;
                echo_round_trips(&mut tcp, &mut ws, id, 20).await;
                let mut closing = ws.close(CloseCode::NORMAL, "");
                flush(&mut tcp, &mut closing).await;
                while next_event(&mut tcp, &mut closing).await.is_some() {}
                assert!(closing.into_closed().unwrap().was_clean());
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
}

/// The proxy answers the client with the parameters the backend chose for
/// the client's own offer, so both legs agree and compressed frames pass.
#[tokio::test]
async fn deflate_parameters_are_those_the_backend_chose() {
    let proxy = spawn_proxy(echo_backend().await).await;
    let offer = DeflateConfig::default()
        .with_server_no_context_takeover(true)
        .with_client_no_context_takeover(true)
        .with_server_max_window_bits(Some(10))
        .with_client_max_window_bits(Some(11));
    let (mut tcp, mut ws) = connect_with(proxy, Some(offer.clone())).await;
    // What the echo server answers this offer with, directly.
    let mut direct = PerMessageDeflate::new(DeflateConfig::default());
    let response = direct.accept(&PerMessageDeflate::new(offer).offer().unwrap());
    assert!(response.is_some());
    let through_proxy = ws.extensions()[0].relay_params();
    let expected = direct.relay_params().map(|server| {
        (
            server.send_max_window_bits,
            server.receive_max_window_bits,
            server.send_no_context_takeover,
            server.receive_no_context_takeover,
        )
    });
    let got = through_proxy.map(|client| {
        (
            client.receive_max_window_bits,
            client.send_max_window_bits,
            client.receive_no_context_takeover,
            client.send_no_context_takeover,
        )
    });
    assert_eq!(got, expected);
    assert_eq!(got, Some((10, 11, true, true)));
    echo_round_trips(&mut tcp, &mut ws, 0, 30).await;
}

/// A backend on the async adapter that answers no pings by itself but
/// reports what it saw: each message, ping and the close frame, in order.
async fn recording_backend() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Message>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = stream::accept(tcp).await.unwrap();
        while let Some(Ok(message)) = ws.next().await {
            let _ = tx.send(message);
        }
    });
    (addr, rx)
}

async fn recv(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Message>) -> Message {
    tokio::time::timeout(TIMEOUT, rx.recv())
        .await
        .expect("timed out")
        .expect("the backend saw more")
}

#[tokio::test]
async fn pings_and_the_close_handshake_pass_through() {
    let (backend, mut seen) = recording_backend().await;
    let proxy = spawn_proxy(backend).await;
    let (mut tcp, mut ws) = connect(proxy, false).await;
    ws.send_ping(b"are you there?").unwrap();
    flush(&mut tcp, &mut ws).await;
    // The backend's pong, not the proxy's: the backend saw the ping.
    assert_eq!(
        next_event(&mut tcp, &mut ws).await,
        Some(Event::Pong(Bytes::from_static(b"are you there?")))
    );
    assert_eq!(recv(&mut seen).await, Message::ping("are you there?"));
    let mut closing = ws.close(CloseCode(4321), "bye through the proxy");
    flush(&mut tcp, &mut closing).await;
    match next_event(&mut tcp, &mut closing).await {
        // The backend's reply echoes our code and reason.
        Some(Event::Close(frame)) => {
            assert_eq!(frame.code, CloseCode(4321));
            assert_eq!(frame.reason.as_str(), "bye through the proxy");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        recv(&mut seen).await,
        Message::close(CloseCode(4321), "bye through the proxy")
    );
    assert!(closing.into_closed().unwrap().was_clean());
}

#[tokio::test]
async fn a_protocol_error_from_the_client_closes_both_legs() {
    let (backend, mut seen) = recording_backend().await;
    let proxy = spawn_proxy(backend).await;
    let (mut tcp, mut ws) = connect(proxy, false).await;
    ws.send_text("before").unwrap();
    flush(&mut tcp, &mut ws).await;
    assert_eq!(recv(&mut seen).await, Message::text("before"));
    // A masked frame with reserved opcode 3.
    tcp.write_all(&[0x83, 0x80, 1, 2, 3, 4]).await.unwrap();
    match next_event(&mut tcp, &mut ws).await {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    // The backend is told with the same code.
    match recv(&mut seen).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
}

/// A backend that accepts, then sends a frame with reserved opcode 3, and
/// reports the close code the proxy sends back.
async fn misbehaving_backend() -> (SocketAddr, tokio::sync::oneshot::Receiver<Option<u16>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut ws = sockets::accept(&mut tcp, Config::default()).await;
        let mut buf = vec![0u8; 4096];
        tcp.write_all(&[0x83, 0x00]).await.unwrap();
        // What comes back is the proxy's close, masked: it is a client here.
        loop {
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                let _ = tx.send(None);
                return;
            }
            ws.receive(&buf[..n]).unwrap();
            while let Ok(Some(event)) = ws.poll_event() {
                if let Event::Close(frame) = event {
                    let _ = tx.send(Some(frame.code.0));
                    return;
                }
            }
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn a_protocol_error_from_the_backend_closes_both_legs() {
    let (backend, code) = misbehaving_backend().await;
    let proxy = spawn_proxy(backend).await;
    let (mut tcp, mut ws) = connect(proxy, false).await;
    match next_event(&mut tcp, &mut ws).await {
        // RFC 6455 §7.4.1: 1014, a gateway got an invalid response upstream.
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::BAD_GATEWAY),
        other => panic!("{other:?}"),
    }
    let code = tokio::time::timeout(TIMEOUT, code).await.unwrap().unwrap();
    assert_eq!(code, Some(1002));
}

// ---- a 256 MiB message, and the proxy's peak memory --------------------------

/// The environment variable that makes this test binary a proxy process.
const CHILD_BACKEND: &str = "WSPROTO_PROXY_TEST_BACKEND";

/// Not a test on its own: the entry point of the proxy process that
/// `a_256_mib_message_streams_through_in_bounded_memory` starts (this test
/// binary again, with [`CHILD_BACKEND`] set). Without the variable it
/// returns at once.
#[test]
fn proxy_process() {
    let Ok(backend) = std::env::var(CHILD_BACKEND) else {
        return;
    };
    // The parent holds our stdin: when it ends, however it ends, so do we.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("proxy-port {}", listener.local_addr().unwrap().port());
        proxy::run(listener, backend).await.unwrap();
    });
}

/// The proxy process: killed when dropped. It also exits when its stdin,
/// held here, closes, so it cannot outlive a test process that is killed.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the proxy process in front of `backend`; the child and its port.
fn proxy_process_for(backend: SocketAddr) -> (Child, u16) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "proxy_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_BACKEND, format!("ws://{backend}/"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Child(child);
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest may have started the line with the test's name.
        if let Some((_, port)) = line.split_once("proxy-port ") {
            return (child, port.trim().parse().unwrap());
        }
    }
    panic!("the proxy process printed no port");
}

/// A process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

const BIG: u64 = 256 << 20;
const BLOCK: usize = 1 << 20;

/// The payload, one 1 MiB block repeated with its index mixed in, so a
/// misplaced block is seen.
fn block(index: u64) -> Vec<u8> {
    (0..BLOCK)
        .map(|i| (i as u64 * 31 + index * 7 + (i as u64 >> 10)) as u8)
        .collect()
}

/// A backend that echoes every message back as it streams in, fragment by
/// fragment, so it holds no more than a read either.
async fn streaming_echo_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let config = Config::default()
            .with_message_mode(MessageMode::Streaming)
            .with_max_frame_size(u64::MAX >> 1)
            .with_max_message_size(u64::MAX);
        let mut ws = sockets::accept(&mut tcp, config).await;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            tcp.write_all(&ws.take_outgoing()).await.unwrap();
            let n = tcp.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            ws.receive(&buf[..n]).unwrap();
            while let Some(event) = ws.poll_event().unwrap() {
                match event {
                    Event::BinaryChunk {
                        data,
                        message_finished,
                        ..
                    } => ws
                        .send_fragment(MessageKind::Binary, &data, message_finished)
                        .unwrap(),
                    Event::Close(_) => {
                        tcp.write_all(&ws.take_outgoing()).await.unwrap();
                        return;
                    }
                    _ => {}
                }
            }
        }
    });
    addr
}

/// Reads the echo of the big message as it streams back, checking every
/// byte; returns how many arrived.
async fn read_big_echo<S: AsyncRead + Unpin>(mut read: S) -> u64 {
    let config = Config::default()
        .with_message_mode(MessageMode::Streaming)
        .with_max_frame_size(u64::MAX >> 1)
        .with_max_message_size(u64::MAX);
    let mut ws = Open::<Client>::new(config, Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0u64;
    let mut expected = block(0);
    loop {
        let n = read.read(&mut buf).await.unwrap();
        assert!(n > 0, "the proxy closed after {got} bytes");
        ws.receive(&buf[..n]).unwrap();
        while let Some(event) = ws.poll_event().unwrap() {
            let Event::BinaryChunk {
                data,
                message_finished,
                ..
            } = event
            else {
                panic!("{event:?}")
            };
            let mut data = &data[..];
            while !data.is_empty() {
                let at = (got % BLOCK as u64) as usize;
                let take = data.len().min(BLOCK - at);
                assert!(
                    data[..take] == expected[at..at + take],
                    "bytes from {got} differ"
                );
                got += take as u64;
                data = &data[take..];
                if got.is_multiple_of(BLOCK as u64) {
                    expected = block(got / BLOCK as u64);
                }
            }
            if message_finished {
                return got;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_mib_message_streams_through_in_bounded_memory() {
    let backend = streaming_echo_backend().await;
    let (child, port) = proxy_process_for(backend);
    let (tcp, _ws) = connect(SocketAddr::from(([127, 0, 0, 1], port)), false).await;
    let (read, mut write) = tcp.into_split();
    let reader = tokio::spawn(read_big_echo(read));

    // One frame of 256 MiB, masked as a client must, written 1 MiB at a time.
    let key = [0x5a, 0xc3, 0x0f, 0x96];
    let (header, len) = FrameHeader {
        fin: true,
        rsv: Rsv::NONE,
        opcode: Opcode::Binary,
        mask: Some(key),
        payload_len: BIG,
    }
    .encode();
    write.write_all(&header[..len]).await.unwrap();
    for index in 0..BIG / BLOCK as u64 {
        let mut piece = block(index);
        wsproto::mask::apply_mask(&mut piece, key, (index as usize) * BLOCK);
        write.write_all(&piece).await.unwrap();
    }
    let got = tokio::time::timeout(Duration::from_secs(600), reader)
        .await
        .expect("the echo took over 10 minutes")
        .unwrap();
    assert_eq!(got, BIG);

    let peak = peak_rss_kib(child.0.id());
    eprintln!("proxy peak RSS (VmHWM) after a 256 MiB message each way: {peak} KiB");
    assert!(peak < 32 * 1024, "proxy peak RSS {peak} KiB");
}

/// A backend that completes the handshake, then reads and never answers.
async fn silent_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let _ws = sockets::accept(&mut tcp, Config::default()).await;
        let mut buf = vec![0u8; 4096];
        while tcp.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    });
    addr
}

/// The proxy's close timeout (5 s) ends a close handshake the backend
/// never answers: the client's transport is closed, not left open.
#[tokio::test]
async fn a_close_the_backend_never_answers_ends_both_legs() {
    let proxy = spawn_proxy(silent_backend().await).await;
    let (mut tcp, ws) = connect(proxy, false).await;
    let mut closing = ws.close(CloseCode::NORMAL, "bye");
    flush(&mut tcp, &mut closing).await;
    match next_event(&mut tcp, &mut closing).await {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::ABNORMAL_CLOSURE),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_proxy_mirrors_only_offers_it_can_forward_whole() {
    use wsproto::extensions::ExtensionOffer;
    let parse = |header: &str| ExtensionOffer::parse_header(header).unwrap();
    // Without client_max_window_bits the backend could pick a window the
    // client was never told about.
    assert_eq!(proxy::deflate_offer(&parse("permessage-deflate")), None);
    // Invalid offers are skipped; the first valid one is taken.
    let offers = parse(
        "permessage-deflate; x_unknown, \
         permessage-deflate; client_max_window_bits; client_max_window_bits, \
         permessage-deflate; server_max_window_bits=16; client_max_window_bits, \
         permessage-deflate; server_max_window_bits=10; client_max_window_bits, \
         permessage-deflate; client_max_window_bits",
    );
    assert_eq!(
        proxy::deflate_offer(&offers),
        Some(DeflateConfig::default().with_server_max_window_bits(Some(10)))
    );
    let offers = parse(
        "x-other, permessage-deflate; server_no_context_takeover; \
         client_no_context_takeover; client_max_window_bits=9",
    );
    assert_eq!(
        proxy::deflate_offer(&offers),
        Some(
            DeflateConfig::default()
                .with_server_no_context_takeover(true)
                .with_client_no_context_takeover(true)
                .with_client_max_window_bits(Some(9))
        )
    );
}

// ---- what the backend is asked for ----------------------------------------------------

/// A backend that reports the request it was sent, then echoes.
async fn request_recording_backend() -> (
    SocketAddr,
    tokio::sync::oneshot::Receiver<http::Request<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = stream::accept_with(
            tcp,
            Config::default(),
            Vec::new(),
            stream::StreamConfig::default(),
            |request| {
                let _ = tx.send(request.request().clone());
                let mut accept = wsproto::handshake::Accept::new();
                if let Some(first) = request.subprotocols().first() {
                    accept = accept.subprotocol(first);
                }
                Ok(accept)
            },
        )
        .await
        .unwrap();
        while let Some(Ok(message)) = ws.next().await {
            if message.is_text() || message.is_binary() {
                futures_util::SinkExt::send(&mut ws, message).await.unwrap();
            }
        }
    });
    (addr, rx)
}

/// The backend is asked for the client's path under the backend URL's, both
/// queries, the client's end-to-end headers and `X-Forwarded-For`; the
/// handshake's own headers are the backend leg's.
#[tokio::test]
async fn the_backend_gets_the_clients_path_query_and_headers() {
    let (backend, request_seen) = request_recording_backend().await;
    let addr = spawn_proxy_for(format!("ws://{backend}/api/?key=k")).await;

    let request = http::Request::get(format!("ws://{addr}/chat/room?user=ann"))
        .header("cookie", "session=abc")
        .header("authorization", "Bearer t0k3n")
        .header("origin", "https://app.example")
        .header("x-app", "1")
        .header("x-forwarded-for", "203.0.113.7")
        .header("sec-websocket-protocol", "chat.v2, chat.v1")
        .body(())
        .unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut ws, response) = tokio::time::timeout(TIMEOUT, stream::client_async(request, tcp))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v2");
    futures_util::SinkExt::send(&mut ws, Message::text("hello"))
        .await
        .unwrap();
    let echoed = tokio::time::timeout(TIMEOUT, ws.next()).await.unwrap();
    assert_eq!(echoed.unwrap().unwrap(), Message::text("hello"));

    let seen = request_seen.await.unwrap();
    assert_eq!(
        seen.uri().path_and_query().unwrap().as_str(),
        "/api/chat/room?key=k&user=ann"
    );
    let headers = seen.headers();
    assert_eq!(headers["cookie"], "session=abc");
    assert_eq!(headers["authorization"], "Bearer t0k3n");
    assert_eq!(headers["origin"], "https://app.example");
    assert_eq!(headers["x-app"], "1");
    assert_eq!(headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    assert_eq!(headers["host"], backend.to_string().as_str());
    assert_eq!(headers["sec-websocket-protocol"], "chat.v2, chat.v1");
    assert_eq!(headers.get_all("sec-websocket-key").iter().count(), 1);
    ws.close(None).await.unwrap();
}

/// Headers of the client's connection are not forwarded: the standard
/// hop-by-hop ones and any its `Connection` header names.
#[test]
fn hop_by_hop_headers_stay_with_the_client() {
    let request = http::Request::get("/")
        .header("connection", "Upgrade, X-Trace-Hop")
        .header("x-trace-hop", "1")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic cHJveHk=")
        .header("upgrade", "websocket")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-extensions", "permessage-deflate")
        .header("x-kept", "yes")
        .body(())
        .unwrap();
    let forwarded = proxy::backend_request("ws://backend:9001", &request, None, &[]).unwrap();
    assert_eq!(forwarded.uri(), "ws://backend:9001/");
    let names: Vec<&str> = forwarded
        .headers()
        .keys()
        .map(|name| name.as_str())
        .collect();
    assert_eq!(names, ["x-kept"]);
    assert!(proxy::backend_request("/relative", &request, None, &[]).is_err());
}

#[test]
fn dot_segments_are_found_encoded_or_not() {
    for path in [
        "/..",
        "/api/../admin",
        "/a/./b",
        "/%2e%2E/x",
        "/a/%2E",
        "/a%2f..%2fb",
        "/a%5C..",
        "/a\\..\\b",
    ] {
        assert!(proxy::has_dot_segment(path), "{path}");
    }
    for path in ["/", "/a..b/c", "/.well-known/x", "/a/...", "/%2e%2e%2e"] {
        assert!(!proxy::has_dot_segment(path), "{path}");
    }
}

/// A client asking for a path that climbs out of the backend URL's path is
/// answered 400, and the backend is never asked.
#[tokio::test]
async fn a_path_with_dot_segments_is_a_bad_request() {
    let (backend, mut request_seen) = request_recording_backend().await;
    let addr = spawn_proxy_for(format!("ws://{backend}/api/")).await;
    assert_eq!(
        refused_with(addr, "/api/../admin").await,
        http::StatusCode::BAD_REQUEST
    );
    assert!(request_seen.try_recv().is_err(), "the backend was asked");
}

/// A `wss://` backend, reached through a connector that trusts its
/// certificate: the client talks plain TCP to the proxy, the proxy TLS to
/// the backend.
#[cfg(feature = "rustls")]
#[tokio::test]
async fn a_wss_backend_is_reached_over_tls() {
    let (backend, cert) = tls::tls_echo_server().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("wss://localhost:{}/", backend.port());
    tokio::spawn(proxy::run_with(listener, url, tls::trusting(cert)));
    let (mut tcp, mut ws) = connect(addr, true).await;
    echo_round_trips(&mut tcp, &mut ws, 0, 20).await;

    // Without that trust (the default connector: public roots), the
    // certificate is refused and the client gets 502.
    let addr = spawn_proxy_for(format!("wss://localhost:{}/", backend.port())).await;
    assert_eq!(refused_with(addr, "/").await, http::StatusCode::BAD_GATEWAY);
}
