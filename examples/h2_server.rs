//! An HTTPS server for browsers, over HTTP/2 and HTTP/1.1 on one port (TLS
//! with ALPN `h2` and `http/1.1`, rustls, and a self-signed certificate
//! for 127.0.0.1 and localhost made at start with rcgen): `/` is a small
//! page, `/ws` echoes every text and binary message with
//! permessage-deflate, whether the browser asks with HTTP/1.1's upgrade or
//! HTTP/2's extended CONNECT (RFC 8441), and `/stats` counts the
//! WebSockets opened each way, as JSON. `tests/browser/run.sh` runs it to
//! prove that Chromium's WebSocket went over HTTP/2.
//!
//! ```text
//! cargo run --release --example h2_server --features hyper,rustls -- [ADDR]   # default 127.0.0.1:9443
//! ```
//!
//! Browsers refuse the certificate unless told otherwise (Chromium:
//! `--ignore-certificate-errors`). Chromium opens a WebSocket over HTTP/2
//! only on an HTTP/2 connection it already has to the same origin whose
//! SETTINGS enabled extended CONNECT, so load `https://ADDR/` first.

#[path = "hyper_server.rs"]
#[allow(dead_code)]
mod hyper_server;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, UPGRADE};
use http::{HeaderValue, Method};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>wsproto over HTTP/2</title>
<p>WebSocket echo at <code>wss://</code> this host <code>/ws</code>, over HTTP/2 when the
browser has this page's HTTP/2 connection. <a href="/stats">Counters</a>.</p>
"#;

/// How many WebSockets were opened each way.
#[derive(Debug, Default)]
pub struct Stats {
    /// Extended CONNECTs accepted (WebSocket over HTTP/2, RFC 8441).
    pub extended_connect: AtomicU64,
    /// HTTP/1.1 upgrades accepted (RFC 6455).
    pub http1_upgrade: AtomicU64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9443".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "h2_server listening on https://{}/ (WebSocket at /ws)",
        listener.local_addr()?
    );
    run(listener, Arc::new(Stats::default())).await
}

/// TLS for 127.0.0.1 and localhost with a certificate made now, offering
/// HTTP/2 and HTTP/1.1 by ALPN.
fn acceptor() -> std::io::Result<TlsAcceptor> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(std::io::Error::other)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves every connection `listener` accepts, over TLS, each on its own
/// task, counting WebSockets in `stats`; returns only when accepting fails.
/// HTTP/1.1 and HTTP/2, and the WebSocket echo, are `hyper_server`'s.
pub async fn run(listener: TcpListener, stats: Arc<Stats>) -> std::io::Result<()> {
    let acceptor = acceptor()?;
    let builder = hyper_server::http_builder();
    loop {
        let (tcp, _) = listener.accept().await?;
        let (acceptor, builder, stats) = (acceptor.clone(), builder.clone(), stats.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = service_fn(move |request| handle(request, stats.clone()));
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(err) = connection.await {
                eprintln!("http error: {err}");
            }
        });
    }
}

/// Answers one request: `/ws` upgrades either way (counted, then answered
/// by `hyper_server`), `/stats` the counters, anything else the page.
async fn handle(
    request: Request<Incoming>,
    stats: Arc<Stats>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match request.uri().path() {
        "/ws" => {
            let counter = if request.method() == Method::CONNECT {
                Some(&stats.extended_connect)
            } else if request.headers().contains_key(UPGRADE) {
                Some(&stats.http1_upgrade)
            } else {
                None
            };
            let response = hyper_server::handle(request).await?;
            // Counted once accepted: 101 over HTTP/1.1, 200 over HTTP/2.
            if let Some(counter) = counter.filter(|_| response.status().as_u16() < 300) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            Ok(response)
        }
        "/stats" => {
            let body = format!(
                "{{\"extended_connect\":{},\"http1_upgrade\":{}}}",
                stats.extended_connect.load(Ordering::SeqCst),
                stats.http1_upgrade.load(Ordering::SeqCst)
            );
            Ok(with_type(body.into(), "application/json"))
        }
        _ => Ok(with_type(PAGE.into(), "text/html; charset=utf-8")),
    }
}

fn with_type(body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
