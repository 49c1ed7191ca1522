//! wsproto behind a hyper 1 HTTP server: hyper parses every request;
//! [`wsproto::handshake::upgrade`] validates an upgrade request and builds
//! the 101 response, and the returned `Open<Server>` echoes messages on the
//! connection hyper hands over after the 101 (the echo loop of
//! `examples/support/echo.rs`). Other requests get a small
//! page that opens a WebSocket back to this server; invalid upgrade requests
//! get the status the validation names (400, or 426 with
//! `Sec-WebSocket-Version: 13`).
//!
//! ```text
//! cargo run --release --example hyper_server -- [ADDR]   # default 127.0.0.1:9002
//! ```

#[path = "support/echo.rs"]
mod echo;

use std::convert::Infallible;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, SEC_WEBSOCKET_VERSION, UPGRADE};
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wsproto::HandshakeError;
use wsproto::handshake::{Accept, UpgradeError, upgrade};

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
    eprintln!(
        "hyper_server listening on http://{}",
        listener.local_addr()?
    );
    run(listener).await
}

/// Serves HTTP/1.1 on every connection `listener` accepts, each on its own
/// task; returns only when accepting fails. Public, like [`handle`], because
/// `tests/hyper.rs` includes this file and runs this very server.
pub async fn run(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                // Without this, hyper would not hand the connection over
                // after the 101.
                .with_upgrades();
            if let Err(err) = connection.await {
                eprintln!("http error: {err}");
            }
        });
    }
}

/// Answers one request: a WebSocket upgrade with the 101 (and the echo loop
/// on the upgraded connection), an invalid upgrade with its status, anything
/// else with [`PAGE`].
pub async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if !request.headers().contains_key(UPGRADE) {
        let mut response = Response::new(Full::new(Bytes::from_static(PAGE.as_bytes())));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return Ok(response);
    }
    let echo = echo::Echo::default();
    match upgrade(
        &request,
        Accept::new(),
        echo.config.clone(),
        echo.extensions(),
    ) {
        Ok((response, ws)) => {
            // hyper completes the upgrade once the 101 below is written.
            tokio::spawn(async move {
                match hyper::upgrade::on(request).await {
                    Ok(upgraded) => {
                        if let Err(err) = echo.echo(TokioIo::new(upgraded), ws).await {
                            eprintln!("websocket error: {err}");
                        }
                    }
                    Err(err) => eprintln!("upgrade failed: {err}"),
                }
            });
            let (parts, ()) = response.into_parts();
            Ok(Response::from_parts(parts, Full::new(Bytes::new())))
        }
        Err(UpgradeError::Request(err)) => Ok(rejection(&err)),
        // The request was fine but our `Accept` was not: our bug, a 500.
        Err(err) => {
            eprintln!("upgrade: {err}");
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = err.status();
            Ok(response)
        }
    }
}

/// The answer to an invalid upgrade request, as
/// [`HandshakeError::to_response`] writes it for a raw transport.
fn rejection(err: &HandshakeError) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{}\n", err.reason))));
    *response.status_mut() = err.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    // RFC 6455 §4.4: name the versions this server speaks.
    if err.status == StatusCode::UPGRADE_REQUIRED {
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    response
}
