//! The hyper and axum helpers (`wsproto::hyper`, `wsproto::axum`) behind
//! real servers on 127.0.0.1: bad requests get the status and headers the
//! core's validation names and the server keeps serving (no panic);
//! subprotocols are negotiated in the client's order of preference;
//! permessage-deflate is negotiated when offered.

mod async_client;

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsproto::Config;
use wsproto::axum::{UpgradeError, WebSocketUpgrade};
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::hyper::{UpgradedStream, Upgrader};
use wsproto::stream::{Message, StreamConfig};

use async_client::STEP;

/// Echoes until the peer closes.
async fn echo(mut ws: UpgradedStream) {
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
}

/// An axum app whose `/ws` takes any method (so the extractor, not the
/// router, judges it), speaks subprotocols "a" and "b", offers deflate, and
/// sends the selected subprotocol as its first message.
async fn axum_server() -> SocketAddr {
    async fn handler(ws: WebSocketUpgrade) -> Response {
        let ws = ws.protocols(["a", "b"]).deflate(DeflateConfig::default());
        let selected = ws.selected_protocol().unwrap_or("none").to_owned();
        ws.on_upgrade(move |mut ws| async move {
            assert_eq!(ws.subprotocol().unwrap_or("none"), selected);
            if ws.send(Message::text(selected)).await.is_ok() {
                echo(ws).await;
            }
        })
    }
    // A route that takes the rejection itself, to serve plain requests.
    async fn maybe(ws: Result<WebSocketUpgrade, UpgradeError>) -> Response {
        match ws {
            Ok(ws) => ws.on_upgrade(echo),
            Err(err) => (StatusCode::OK, format!("plain: {}", err.status())).into_response(),
        }
    }
    let app = Router::new()
        .route("/ws", any(handler))
        .route("/maybe", any(maybe));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A hyper server with the same behaviour as [`axum_server`], on
/// `wsproto::hyper::Upgrader`.
async fn hyper_server() -> SocketAddr {
    async fn handle(
        mut request: Request<Incoming>,
    ) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
        let upgrader = Upgrader::new()
            .protocols(["a", "b"])
            .deflate(DeflateConfig::default());
        match upgrader.upgrade(&mut request) {
            Ok((response, websocket)) => {
                tokio::spawn(async move {
                    let Ok(mut ws) = websocket.await else { return };
                    let selected = ws.subprotocol().unwrap_or("none").to_owned();
                    if ws.send(Message::text(selected)).await.is_ok() {
                        echo(ws).await;
                    }
                });
                Ok(response)
            }
            Err(err) => Ok(err.to_response()),
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service_fn(handle))
                    .with_upgrades(),
            );
        }
    });
    addr
}

/// Sends a raw request head; the response head (status line and headers)
/// in lower case, read until the server closes or the head ends.
async fn raw(addr: SocketAddr, head: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(STEP, tcp.read(&mut buf))
            .await
            .expect("the server answers")
            .unwrap();
        response.extend_from_slice(&buf[..n]);
        if n == 0 || response.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&response).to_lowercase()
}

const KEY: &str = "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

fn request(path: &str, method: &str, version: &str, key: &str, upgrade: bool) -> String {
    let upgrade = if upgrade {
        "upgrade: websocket\r\nconnection: upgrade\r\n"
    } else {
        ""
    };
    format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\n{upgrade}{key}sec-websocket-version: {version}\r\n\r\n"
    )
}

/// Each bad request gets its status; then a good one still upgrades.
async fn bad_requests_get_their_status(addr: SocketAddr, path: &str) {
    // Another protocol version: 426 naming version 13 (RFC 6455 §4.4).
    let response = raw(addr, &request(path, "GET", "8", KEY, true)).await;
    assert!(response.starts_with("http/1.1 426"), "{response}");
    assert!(
        response.contains("sec-websocket-version: 13\r\n"),
        "{response}"
    );
    assert!(response.contains("upgrade: websocket\r\n"), "{response}");
    // No key, a key that is not 16 bytes, no Upgrade header, not GET: 400.
    for bad in [
        request(path, "GET", "13", "", true),
        request(path, "GET", "13", "sec-websocket-key: c2hvcnQ=\r\n", true),
        request(path, "GET", "13", KEY, false),
        request(path, "POST", "13", KEY, true),
    ] {
        let response = raw(addr, &bad).await;
        assert!(response.starts_with("http/1.1 400"), "{bad}\n=> {response}");
    }
    // The server lives on.
    let response = raw(addr, &request(path, "GET", "13", KEY, true)).await;
    assert!(response.starts_with("http/1.1 101"), "{response}");
    assert!(
        response.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
        "{response}"
    );
}

#[tokio::test]
async fn axum_bad_requests_get_their_status() {
    bad_requests_get_their_status(axum_server().await, "/ws").await;
}

#[tokio::test]
async fn hyper_bad_requests_get_their_status() {
    bad_requests_get_their_status(hyper_server().await, "/").await;
}

#[tokio::test]
async fn axum_rejection_can_be_taken_by_the_handler() {
    let addr = axum_server().await;
    let response = raw(addr, "GET /maybe HTTP/1.1\r\nhost: localhost\r\n\r\n").await;
    assert!(response.starts_with("http/1.1 200"), "{response}");
}

/// Connects offering `protocols` (and deflate when asked); the stream, the
/// 101 and the first message (the subprotocol the server saw).
async fn connect(
    url: &str,
    protocols: &str,
    deflate: bool,
) -> (
    wsproto::stream::WebSocketStream<wsproto::connect::MaybeTlsStream<TcpStream>, wsproto::Client>,
    http::Response<()>,
    String,
) {
    let mut request = Request::get(url);
    if !protocols.is_empty() {
        request = request.header("sec-websocket-protocol", protocols);
    }
    let extensions: Vec<Box<dyn Extension>> = if deflate {
        vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))]
    } else {
        Vec::new()
    };
    let (mut ws, response) = wsproto::connect_with(
        request.body(()).unwrap(),
        Config::default(),
        extensions,
        StreamConfig::default(),
    )
    .await
    .unwrap();
    let first = async_client::next(&mut ws).await;
    let Message::Text(selected) = first else {
        panic!("expected the subprotocol, got {first:?}");
    };
    (ws, response, selected.to_string())
}

async fn subprotocols_in_the_clients_order(url: &str) {
    // The client prefers b; the server speaks both: b.
    let (ws, response, selected) = connect(url, "b, a", false).await;
    assert_eq!(response.headers()["sec-websocket-protocol"], "b");
    assert_eq!((ws.subprotocol(), selected.as_str()), (Some("b"), "b"));
    // Only one in common.
    let (ws, _, selected) = connect(url, "c, a", false).await;
    assert_eq!((ws.subprotocol(), selected.as_str()), (Some("a"), "a"));
    // None in common: no header, no subprotocol; the client decides.
    let (ws, response, selected) = connect(url, "c", false).await;
    assert!(!response.headers().contains_key("sec-websocket-protocol"));
    assert_eq!((ws.subprotocol(), selected.as_str()), (None, "none"));
    // None offered.
    let (ws, _, selected) = connect(url, "", false).await;
    assert_eq!((ws.subprotocol(), selected.as_str()), (None, "none"));
}

#[tokio::test]
async fn axum_subprotocols_in_the_clients_order() {
    let addr = axum_server().await;
    subprotocols_in_the_clients_order(&format!("ws://{addr}/ws")).await;
}

#[tokio::test]
async fn hyper_subprotocols_in_the_clients_order() {
    let addr = hyper_server().await;
    subprotocols_in_the_clients_order(&format!("ws://{addr}/")).await;
}

/// Deflate is negotiated when offered (and only then), and a compressible
/// message round-trips through it.
async fn deflate_negotiated(url: &str) {
    for offer in [true, false] {
        let (mut ws, response, _) = connect(url, "", offer).await;
        let header = response.headers().get("sec-websocket-extensions");
        assert_eq!(
            header.is_some_and(|h| h.to_str().unwrap().starts_with("permessage-deflate")),
            offer
        );
        assert_eq!(ws.extensions().len(), usize::from(offer));
        let text = "compress me ".repeat(1000);
        ws.send(Message::text(text.clone())).await.unwrap();
        assert_eq!(async_client::next(&mut ws).await, Message::text(text));
        async_client::close_to_the_end(&mut ws).await;
    }
}

#[tokio::test]
async fn axum_deflate_negotiated() {
    let addr = axum_server().await;
    deflate_negotiated(&format!("ws://{addr}/ws")).await;
}

#[tokio::test]
async fn hyper_deflate_negotiated() {
    let addr = hyper_server().await;
    deflate_negotiated(&format!("ws://{addr}/")).await;
}

/// A valid request that no hyper connection carries cannot be upgraded:
/// 426, not a panic. An invalid one reports its own status first.
#[test]
fn a_request_hyper_did_not_serve_is_not_upgradable() {
    let valid = || {
        Request::get("/")
            .header("host", "localhost")
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
            .body(())
            .unwrap()
    };
    let err = wsproto::hyper::upgrade::<_, Full<Bytes>>(valid()).unwrap_err();
    assert_eq!(err, wsproto::hyper::UpgradeError::NotUpgradable);
    let response = err.to_response::<Full<Bytes>>();
    assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(response.headers()["upgrade"], "websocket");
    // The same through axum's IntoResponse.
    assert_eq!(err.into_response().status(), StatusCode::UPGRADE_REQUIRED);

    let mut bad = valid();
    bad.headers_mut().remove("sec-websocket-key");
    let err = wsproto::hyper::upgrade::<_, Full<Bytes>>(&mut bad).unwrap_err();
    assert!(matches!(err, wsproto::hyper::UpgradeError::Request(_)));
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
}
