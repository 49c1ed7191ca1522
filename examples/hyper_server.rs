//! wsproto behind a hyper 1 HTTP server, HTTP/1.1 and HTTP/2 (cleartext,
//! prior knowledge) on one port: hyper parses every request;
//! [`wsproto::hyper::Upgrader`] validates an upgrade request (HTTP/1.1) or
//! an extended CONNECT (HTTP/2, RFC 8441), negotiates permessage-deflate and
//! returns the 101 (or 200) response, and the stream it resolves to echoes
//! every text and binary message. Other requests get a
//! small page that opens a WebSocket back to this server; invalid upgrade
//! requests get the status the validation names (400, or 426 with
//! `Sec-WebSocket-Version: 13`).
//!
//! ```text
//! cargo run --release --example hyper_server --features hyper -- [ADDR]   # default 127.0.0.1:9002
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::header::{CONTENT_TYPE, UPGRADE};
use http::{HeaderValue, Method};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use wsproto::extensions::DeflateConfig;
use wsproto::hyper::{UpgradedStream, Upgrader};

const PAGE: &str = r#"<!doctype html>
<title>wsproto echo</title>
<p>This is a WebSocket echo server. Connect to <code>ws://</code> this address.</p>
<pre id="log"></pre>
<script>
  const log = (line) => (document.getElementById("log").textContent += line + "\n");
  const ws = new WebSocket(`ws://${location.host}/`);
  ws.onopen = () => ws.send("hello from the browser");
  ws.onmessage = (event) => { log(`echo: ${event.data}`); ws.close(1000); };
  ws.onclose = (event) => log(`closed: ${event.code}`);
</script>
"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "hyper_server listening on http://{}",
        listener.local_addr()?
    );
    run(listener).await
}

/// Serves HTTP/1.1 and HTTP/2 on every connection `listener` accepts, each
/// on its own task; returns only when accepting fails. Public, like
/// [`handle`], because `tests/hyper.rs`, `tests/h2.rs` and
/// `tests/python_interop.rs` include this file and run this very server.
pub async fn run(listener: TcpListener) -> std::io::Result<()> {
    let builder = http_builder();
    loop {
        let (stream, _) = listener.accept().await?;
        let builder = builder.clone();
        tokio::spawn(async move {
            // `_with_upgrades`: without it, hyper would not hand an
            // HTTP/1.1 connection over after the 101.
            let connection =
                builder.serve_connection_with_upgrades(TokioIo::new(stream), service_fn(handle));
            if let Err(err) = connection.await {
                eprintln!("http error: {err}");
            }
        });
    }
}

/// hyper-util's server for HTTP/1.1 and HTTP/2 on one connection (it tells
/// them apart by the preface), with extended CONNECT announced: without
/// SETTINGS_ENABLE_CONNECT_PROTOCOL, HTTP/2 clients never send one (RFC
/// 8441 §3). Serve with `serve_connection_with_upgrades`, or hyper would not
/// hand an HTTP/1.1 connection over after the 101.
pub fn http_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http2().enable_connect_protocol();
    builder
}

/// Answers one request: a WebSocket upgrade or extended CONNECT with the
/// 101 or 200 (and the echo loop on the upgraded connection or stream), an
/// invalid one with its status, anything else with [`PAGE`].
pub async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if !request.headers().contains_key(UPGRADE) && request.method() != Method::CONNECT {
        let mut response = Response::new(Full::new(Bytes::from_static(PAGE.as_bytes())));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return Ok(response);
    }
    let upgrader = Upgrader::new().deflate(DeflateConfig::default());
    match upgrader.upgrade(&mut request) {
        Ok((response, websocket)) => {
            // hyper hands the connection (or the HTTP/2 stream) over once
            // the 101 (or 200) is written.
            tokio::spawn(async move {
                match websocket.await {
                    Ok(ws) => echo(ws).await,
                    Err(err) => eprintln!("upgrade failed: {err}"),
                }
            });
            Ok(response)
        }
        Err(err) => Ok(err.to_response()),
    }
}

/// Echoes until the peer closes; the stream answers pings and completes the
/// close handshake. `feed` queues each reply and the next `next()` writes
/// them all at once.
async fn echo(mut ws: UpgradedStream) {
    while let Some(message) = ws.next().await {
        match message {
            Ok(message) if message.is_text() || message.is_binary() => {
                if ws.feed(message).await.is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(err) => {
                eprintln!("websocket error: {err}");
                break;
            }
        }
    }
}
