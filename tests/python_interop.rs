//! Python's `websockets` against our async servers and client, over real
//! sockets on 127.0.0.1: its client against `examples/axum_echo.rs` and
//! `examples/hyper_server.rs` (each with and without permessage-deflate),
//! and our `connect` against its server (both ways for deflate). Over
//! HTTP/2 (RFC 8441), a client made of Python's `h2` and `wsproto`
//! (`h2_client.py`) against the same two servers.
//!
//! The examples are compiled in here, so the code under test is theirs; each
//! server listens on a port the OS picks and ends with the test.

mod async_client;
mod python;

#[path = "../examples/axum_echo.rs"]
#[allow(dead_code)]
mod axum_echo;
#[path = "../examples/hyper_server.rs"]
#[allow(dead_code)]
mod hyper_server;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::SinkExt;
use tokio::net::TcpListener;
use wsproto::Config;
use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
use wsproto::stream::{Message, StreamConfig};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

async fn axum_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum_echo::app()).await });
    addr
}

async fn hyper_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(hyper_server::run(listener));
    addr
}

/// Runs `echo_client.py` against `url`; panics with its reason on failure.
async fn python_client(url: &str, deflate: bool) {
    let Some(python) = python::python() else {
        return;
    };
    let mut args = vec![url];
    if deflate {
        args.push("--deflate");
    }
    match python::run_script(python, "echo_client.py", &args, SCRIPT_TIMEOUT).await {
        Ok(out) => assert_eq!(out.trim(), "ok"),
        Err(why) => panic!("{why}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_against_axum_echo() {
    let addr = axum_echo().await;
    python_client(&format!("ws://{addr}/ws"), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_against_axum_echo_with_deflate() {
    let addr = axum_echo().await;
    python_client(&format!("ws://{addr}/ws"), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_against_hyper_server() {
    let addr = hyper_server().await;
    python_client(&format!("ws://{addr}/"), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_against_hyper_server_with_deflate() {
    let addr = hyper_server().await;
    python_client(&format!("ws://{addr}/"), true).await;
}

/// Runs `h2_client.py` (extended CONNECT over cleartext HTTP/2) against
/// `addr` and `path`; panics with its reason on failure.
async fn python_h2_client(addr: SocketAddr, path: &str, deflate: bool) {
    let Some(python) = python::python() else {
        return;
    };
    let (host, port) = (addr.ip().to_string(), addr.port().to_string());
    let mut args = vec![host.as_str(), port.as_str(), path];
    if deflate {
        args.push("--deflate");
    }
    match python::run_script(python, "h2_client.py", &args, SCRIPT_TIMEOUT).await {
        Ok(out) => assert_eq!(out.trim(), "ok"),
        Err(why) => panic!("{why}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_h2_client_against_axum_echo() {
    python_h2_client(axum_echo().await, "/ws", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_h2_client_against_axum_echo_with_deflate() {
    python_h2_client(axum_echo().await, "/ws", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_h2_client_against_hyper_server_with_deflate() {
    python_h2_client(hyper_server().await, "/", true).await;
}

/// Our client against `echo_server.py`: every frame-length encoding both
/// ways, a ping, and the close handshake to the end of the stream.
async fn our_client_against_python(deflate: bool) {
    let Some(python) = python::python() else {
        return;
    };
    let args: &[&str] = if deflate { &["--deflate"] } else { &[] };
    let (_server, port) = python::spawn_server(python, "echo_server.py", args);
    let request = http::Request::get(format!("ws://127.0.0.1:{port}/"))
        .body(())
        .unwrap();
    let extensions: Vec<Box<dyn wsproto::extensions::Extension>> = if deflate {
        vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))]
    } else {
        Vec::new()
    };
    let (mut ws, response) = wsproto::connect_with(
        request,
        Config::default(),
        extensions,
        StreamConfig::default(),
    )
    .await
    .expect("connect to the Python server");
    assert_eq!(response.status(), 101);
    assert_eq!(
        ws.extensions().iter().map(|e| e.name()).collect::<Vec<_>>(),
        if deflate {
            vec!["permessage-deflate"]
        } else {
            vec![]
        }
    );
    async_client::echo_round_trips(&mut ws).await;
    ws.send(Message::ping("are you there?")).await.unwrap();
    assert_eq!(
        async_client::next(&mut ws).await,
        Message::pong("are you there?")
    );
    async_client::close_to_the_end(&mut ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_python_server() {
    our_client_against_python(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_python_server_with_deflate() {
    our_client_against_python(true).await;
}
