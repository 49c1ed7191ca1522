//! WebSocket over HTTP/2 (RFC 8441) end to end on 127.0.0.1: our client
//! (`wsproto::hyper::connect_h2`, on hyper's HTTP/2 client) against our
//! servers on hyper's HTTP/2 server (`examples/hyper_server.rs` and
//! `examples/axum_echo.rs`, compiled in), with permessage-deflate; one
//! route serving HTTP/1.1 and HTTP/2; several WebSockets and plain
//! requests sharing one connection; each bad extended CONNECT answered
//! with its status; and a server that did not enable extended CONNECT.
//! Then RFC 9220 (HTTP/3), which no HTTP/3 crate on crates.io can carry
//! (see the README): both roles' handshake on `http` types, and the data
//! phase on an in-memory stream standing for the request's HTTP/3 stream,
//! ending without a reset.

mod async_client;

#[path = "../examples/axum_echo.rs"]
#[allow(dead_code)]
mod axum_echo;
#[path = "../examples/hyper_server.rs"]
#[allow(dead_code)]
mod hyper_server;

use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::SinkExt;
use http::{Method, Request, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http2::{self, SendRequest};
use hyper::ext::Protocol;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use wsproto::Config;
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::hyper::{ConnectH2Error, H2ClientStream, connect_h2, connect_h2_with};
use wsproto::stream::{Message, StreamConfig};

use async_client::STEP;

async fn hyper_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(hyper_server::run(listener));
    addr
}

async fn axum_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum_echo::app()).await });
    addr
}

/// An HTTP/2 client connection (cleartext, prior knowledge) to `addr`,
/// driven by its own task.
async fn h2_connection(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
        .await
        .expect("HTTP/2 handshake");
    tokio::spawn(connection);
    sender
}

fn deflate() -> Vec<Box<dyn Extension>> {
    vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))]
}

/// Opens a WebSocket with permessage-deflate on `sender`'s connection and
/// checks the 200 and the negotiation.
async fn open_with_deflate(sender: &mut SendRequest<Empty<Bytes>>, url: &str) -> H2ClientStream {
    let request = Request::get(url).body(()).unwrap();
    let (ws, response) = tokio::time::timeout(
        STEP,
        connect_h2_with(
            sender,
            request,
            Config::default(),
            deflate(),
            StreamConfig::default(),
        ),
    )
    .await
    .expect("the extended CONNECT is answered in time")
    .expect("the server accepts the extended CONNECT");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), Version::HTTP_2);
    assert!(!response.headers().contains_key("sec-websocket-accept"));
    assert_eq!(
        ws.extensions().iter().map(|e| e.name()).collect::<Vec<_>>(),
        ["permessage-deflate"]
    );
    ws
}

/// Every frame-length encoding both ways, compressed; a ping; the close
/// handshake to the end of the stream.
async fn full_session(ws: &mut H2ClientStream) {
    async_client::echo_round_trips(ws).await;
    ws.send(Message::ping("over h2")).await.unwrap();
    assert_eq!(async_client::next(ws).await, Message::pong("over h2"));
    async_client::close_to_the_end(ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_h2_client_against_hyper_server_with_deflate() {
    let addr = hyper_server().await;
    let mut sender = h2_connection(addr).await;
    let mut ws = open_with_deflate(&mut sender, &format!("ws://{addr}/")).await;
    full_session(&mut ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_h2_client_against_axum_echo_with_deflate() {
    let addr = axum_echo().await;
    let mut sender = h2_connection(addr).await;
    let mut ws = open_with_deflate(&mut sender, &format!("ws://{addr}/ws")).await;
    full_session(&mut ws).await;
}

/// The same route answers HTTP/1.1's upgrade with 101 and HTTP/2's
/// extended CONNECT with 200, for axum and for hyper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_route_serves_http1_and_http2() {
    for url in [
        format!("ws://{}/ws", axum_echo().await),
        format!("ws://{}/", hyper_server().await),
    ] {
        let (mut h1, response) = wsproto::connect(&url).await.expect("HTTP/1.1 upgrade");
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        h1.send(Message::text("h1")).await.unwrap();
        assert_eq!(async_client::next(&mut h1).await, Message::text("h1"));

        let addr: SocketAddr = url[5..].split('/').next().unwrap().parse().unwrap();
        let mut sender = h2_connection(addr).await;
        let (mut h2, response) = connect_h2(&mut sender, &url)
            .await
            .expect("extended CONNECT");
        assert_eq!(response.status(), StatusCode::OK);
        h2.send(Message::text("h2")).await.unwrap();
        assert_eq!(async_client::next(&mut h2).await, Message::text("h2"));
        async_client::close_to_the_end(&mut h2).await;
        async_client::close_to_the_end(&mut h1).await;
    }
}

/// Several WebSockets, each on its own stream, and a plain request share
/// one HTTP/2 connection; their messages interleave without mixing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_and_requests_share_one_connection() {
    let addr = hyper_server().await;
    let mut sender = h2_connection(addr).await;
    let mut sockets = Vec::new();
    for _ in 0..4 {
        sockets.push(open_with_deflate(&mut sender, &format!("ws://{addr}/")).await);
    }
    let page = sender
        .send_request(
            Request::get(format!("http://{addr}/"))
                .body(Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.into_body().collect().await.unwrap().to_bytes();
    assert!(body.starts_with(b"<!doctype html>"));
    for round in 0..3 {
        for (i, ws) in sockets.iter_mut().enumerate() {
            ws.send(Message::text(format!("socket {i} round {round}")))
                .await
                .unwrap();
        }
        for (i, ws) in sockets.iter_mut().enumerate() {
            assert_eq!(
                async_client::next(ws).await,
                Message::text(format!("socket {i} round {round}"))
            );
        }
    }
    for ws in &mut sockets {
        async_client::close_to_the_end(ws).await;
    }
}

/// Sends an extended CONNECT by hand: `protocol` as `:protocol`, `version`
/// as `Sec-WebSocket-Version` (none when empty). The response head.
async fn raw_connect(
    sender: &mut SendRequest<Empty<Bytes>>,
    url: &str,
    protocol: Option<&'static str>,
    version: &str,
) -> http::Response<hyper::body::Incoming> {
    let mut request = Request::builder().method(Method::CONNECT).uri(url);
    if !version.is_empty() {
        request = request.header("sec-websocket-version", version);
    }
    let mut request = request.body(Empty::new()).unwrap();
    if let Some(protocol) = protocol {
        request
            .extensions_mut()
            .insert(Protocol::from_static(protocol));
    }
    sender.ready().await.unwrap();
    tokio::time::timeout(STEP, sender.send_request(request))
        .await
        .expect("answered in time")
        .expect("answered")
}

/// Each bad extended CONNECT gets its status on its own stream; the
/// connection goes on serving, and a good one is accepted after them.
async fn bad_connects_get_their_status(addr: SocketAddr, path: &str) {
    let url = format!("http://{addr}{path}");
    let mut sender = h2_connection(addr).await;
    // Another version: 426 naming version 13 (RFC 6455 §4.4), and no
    // Upgrade header, which HTTP/2 forbids (RFC 9113 §8.2.2).
    let response = raw_connect(&mut sender, &url, Some("websocket"), "8").await;
    assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    assert!(!response.headers().contains_key("upgrade"));
    // No version, or another :protocol: 400.
    for (protocol, version) in [(Some("websocket"), ""), (Some("webtransport"), "13")] {
        let response = raw_connect(&mut sender, &url, protocol, version).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{protocol:?} {version:?}"
        );
    }
    let response = raw_connect(&mut sender, &url, Some("websocket"), "13").await;
    assert_eq!(response.status(), StatusCode::OK);
    let (mut ws, _) = connect_h2(&mut sender, &format!("ws://{addr}{path}"))
        .await
        .expect("a good extended CONNECT after the bad ones");
    ws.send(Message::binary(&b"still here"[..])).await.unwrap();
    assert_eq!(
        async_client::next(&mut ws).await,
        Message::binary(&b"still here"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_bad_connects_get_their_status() {
    bad_connects_get_their_status(hyper_server().await, "/").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_bad_connects_get_their_status() {
    bad_connects_get_their_status(axum_echo().await, "/ws").await;
}

/// A server that did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL resets
/// the stream: `connect_h2` ends with the HTTP/2 error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_extended_connect_refuses() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper::service::service_fn(hyper_server::handle);
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    let mut sender = h2_connection(addr).await;
    let err = tokio::time::timeout(STEP, connect_h2(&mut sender, &format!("ws://{addr}/")))
        .await
        .expect("refused in time")
        .expect_err("the server did not enable extended CONNECT");
    assert!(matches!(err, ConnectH2Error::Http(_)), "{err:?}");
}

/// RFC 9220: the client's HTTP/3 extended CONNECT, the server's 200, then
/// both `WebSocketStream`s on an in-memory stream (a stand-in for the HTTP/3
/// request stream), with permessage-deflate. The server reads to the
/// client's end after the close, as it must on a multiplexed stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9220_handshake_on_http_types_and_data_on_a_stream() {
    use wsproto::handshake::Accept;
    use wsproto::handshake::extended_connect::{self, PendingConnect};
    use wsproto::stream::WebSocketStream;

    let request = Request::get("wss://example.com/chat")
        .version(Version::HTTP_3)
        .header("sec-websocket-protocol", "chat")
        .body(())
        .unwrap();
    let (pending, request) = PendingConnect::new(request, Config::default(), deflate()).unwrap();
    assert_eq!(request.version(), Version::HTTP_3);
    assert_eq!(request.method(), Method::CONNECT);
    let (response, server) = extended_connect::upgrade(
        &request,
        Some(extended_connect::PROTOCOL),
        Accept::new().subprotocol("chat"),
        Config::default(),
        deflate(),
    )
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let client = pending.finish(&response).unwrap();
    assert_eq!(client.subprotocol(), Some("chat"));

    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server_config = StreamConfig::default().with_read_to_end_after_close(true);
    let mut server = WebSocketStream::from_open(server_io, server, server_config);
    let server = tokio::spawn(async move {
        use futures_util::StreamExt;
        while let Some(Ok(message)) = server.next().await {
            if (message.is_text() || message.is_binary()) && server.send(message).await.is_err() {
                break;
            }
        }
        server.into_inner()
    });
    let mut ws = WebSocketStream::from_open(client_io, client, StreamConfig::default());
    async_client::echo_round_trips(&mut ws).await;
    async_client::close_to_the_end(&mut ws).await;
    // The server's stream ended only after the client had ended its side.
    let mut server_io = tokio::time::timeout(STEP, server)
        .await
        .expect("the server ends")
        .unwrap();
    let mut rest = Vec::new();
    use tokio::io::AsyncReadExt;
    assert_eq!(server_io.read_to_end(&mut rest).await.unwrap(), 0);
}

/// With `read_to_end_after_close`, a server whose peer never ends its side
/// gives up at the close timeout (paused time: no real waiting).
#[tokio::test(start_paused = true)]
async fn read_to_end_after_close_is_bounded_by_the_close_timeout() {
    use futures_util::StreamExt;
    use wsproto::stream::{Error, WebSocketStream};
    use wsproto::{Client, Open, Server};

    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let config = StreamConfig::default().with_read_to_end_after_close(true);
    let mut server = WebSocketStream::from_open(
        server_io,
        Open::<Server>::new(Config::default(), Vec::new()),
        config,
    );
    // A client that closes but then never ends its side of the stream.
    let client = Open::<Client>::new(Config::default(), Vec::new());
    let mut closing = client.close(wsproto::CloseCode::NORMAL, "");
    let mut client_io = client_io;
    use tokio::io::AsyncWriteExt;
    client_io.write_all(&closing.take_outgoing()).await.unwrap();
    match server.next().await {
        Some(Ok(Message::Close(_))) => {}
        other => panic!("expected the close, got {other:?}"),
    }
    let end = server.next().await;
    assert!(matches!(end, Some(Err(Error::CloseTimeout))), "{end:?}");
    drop(client_io);
}
