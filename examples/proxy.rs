//! A WebSocket reverse proxy on the frame-level mode ([`wsproto::relay`]):
//! it accepts clients, connects each to the backend URL, and forwards
//! frames both ways as they arrive, without reassembling messages, so its
//! memory stays bounded by its reads however large a message is.
//!
//! ```text
//! cargo run --release --features tokio --example proxy -- LISTEN_ADDR BACKEND_URL
//! cargo run --release --features tokio --example proxy -- 127.0.0.1:9004 ws://127.0.0.1:9001/
//! cargo run --release --features rustls --example proxy -- 127.0.0.1:9004 wss://example.com/
//! ```
//!
//! - **Handshake.** The client's request is read first; the proxy then
//!   connects to the backend: at `BACKEND_URL` with the client's path
//!   appended to its path and the client's query to its query (`ws://b/api`
//!   and `/chat?room=1` make `ws://b/api/chat?room=1`), with the client's
//!   end-to-end headers (cookies, authorization, origin, the application's
//!   own) and `X-Forwarded-For` (a path with `.` or `..` segments is
//!   answered 400), offering the client's subprotocols and its
//!   first permessage-deflate offer. It answers the client as the backend
//!   answered the proxy: the same subprotocol, and permessage-deflate with
//!   the parameters the backend chose. Both legs then share their deflate
//!   parameters, so compressed frames pass through untouched (RSV1 kept);
//!   nothing is inflated or compressed here. A backend that refuses, or
//!   cannot be reached, is answered to the client with 502.
//! - **Pings, pongs and close** pass through: the legs answer nothing
//!   themselves (`auto_pong` and `auto_close` off), so the client's ping is
//!   answered by the backend, and a close handshake runs end to end (each
//!   leg's close is forwarded, and the reply comes back the same way). A
//!   transport that ends without a close frame is a 1001 (going away) to the
//!   other side.
//! - **Protocol errors.** A leg whose peer breaks RFC 6455 closes with the
//!   code the core names (1002, 1007, 1009). The other leg is closed too:
//!   the backend gets the same code (it was the client's stream that
//!   broke), the client gets 1014 (bad gateway: RFC 6455's code for an
//!   invalid response from upstream).
//! - **Back-pressure.** A leg's socket is read only while the other leg has
//!   less than 256 KiB waiting to be written, so a slow reader slows the
//!   writer down instead of growing the proxy.
//! - **Limits.** The legs set no frame or message size limit of their own:
//!   nothing is held whole, and the ends enforce theirs.
//!
//! - **TLS to the backend.** A `wss://` backend is reached through
//!   `wsproto::connect::Connector::open` (the `rustls` feature: Mozilla's
//!   roots by default, or a `rustls::ClientConfig` of your own through
//!   [`run_with`]). Clients connect to the proxy over plain TCP.
//!
//! It runs the sans-IO core directly over tokio's sockets, and so shows the
//! core's frame-mode calls one by one (the `tokio` feature is for
//! `Connector::open` only); `wsproto::stream` relays frames too
//! (`Message::Frame`).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use wsproto::connect::{Connector, MaybeTlsStream};
use wsproto::extensions::deflate::Negotiated;
use wsproto::extensions::{DeflateConfig, Extension, ExtensionOffer, PerMessageDeflate};
use wsproto::handshake::{Accept, ClientHandshake, ServerHandshake};
use wsproto::{
    Client, CloseCode, Config, Event, MessageMode, Open, Pending, Role, Server, WebSocket,
};

/// One read from a socket.
const READ_SIZE: usize = 64 * 1024;

/// A leg's socket is read only while the other leg holds less than this.
const HIGH_WATER: usize = 256 * 1024;

/// How long the backend may take to accept the connection and answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a close handshake may take once one leg has closed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(backend)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: proxy LISTEN_ADDR BACKEND_URL   (e.g. 127.0.0.1:9004 ws://127.0.0.1:9001/)"
        );
        std::process::exit(2);
    };
    let listener = TcpListener::bind(&listen).await?;
    eprintln!(
        "proxy listening on ws://{} for {backend}",
        listener.local_addr()?
    );
    run(listener, backend).await
}

/// Serves every client `listener` accepts, each on its own task; returns
/// only when accepting fails. A `wss://` backend is reached with the
/// default [`Connector`].
pub async fn run(listener: TcpListener, backend_url: String) -> io::Result<()> {
    run_with(listener, backend_url, Connector::default()).await
}

/// As [`run`], reaching a `wss://` backend through `connector` (say, one
/// that trusts a private CA).
pub async fn run_with(
    listener: TcpListener,
    backend_url: String,
    connector: Connector,
) -> io::Result<()> {
    let backend: Arc<(String, Connector)> = Arc::new((backend_url, connector));
    loop {
        let (tcp, _) = listener.accept().await?;
        let backend = Arc::clone(&backend);
        tokio::spawn(async move {
            let (backend_url, connector) = &*backend;
            if let Err(err) = proxy(tcp, backend_url, connector).await {
                eprintln!("proxy: {err}");
            }
        });
    }
}

/// Both legs' settings: frames, and nothing answered on the peers' behalf.
pub fn leg_config() -> Config {
    Config::default()
        .with_message_mode(MessageMode::Frames)
        .with_auto_pong(false)
        .with_auto_close(false)
        .with_max_frame_size(u64::MAX >> 1)
        .with_max_message_size(u64::MAX)
}

/// One client: both handshakes, then the relay.
async fn proxy(mut client: TcpStream, backend_url: &str, connector: &Connector) -> io::Result<()> {
    client.set_nodelay(true)?;
    // The client's request, read whole; the bytes are kept, to be parsed
    // again once the backend has said which extensions to accept.
    let mut head = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut probe = Pending::<Server>::new(leg_config(), Vec::new());
    let request = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        match probe.receive(&buf[..n]) {
            Ok(ServerHandshake::Pending(next)) => probe = next,
            Ok(ServerHandshake::Request(request)) => break request,
            Err(err) => return client.write_all(&err.to_response()).await,
        }
    };
    // `/api/../admin` must not leave the backend URL's path.
    if has_dot_segment(request.request().uri().path()) {
        let why = b"a path with . or .. segments";
        let answer = request.reject(StatusCode::BAD_REQUEST, &HeaderMap::new(), why);
        return client.write_all(&answer).await;
    }
    let offer = deflate_offer(request.extension_offers());
    let backend_request = backend_request(
        backend_url,
        request.request(),
        client.peer_addr().ok(),
        request.subprotocols(),
    );
    let connected = match backend_request {
        Ok(backend_request) => connect_backend(backend_request, offer, connector).await,
        Err(why) => Err(why),
    };
    let (backend, backend_leg) = match connected {
        Ok(connected) => connected,
        Err(why) => {
            let why = format!("backend: {why}");
            let answer = request.reject(StatusCode::BAD_GATEWAY, &HeaderMap::new(), why.as_bytes());
            client.write_all(&answer).await?;
            return Err(io::Error::other(why));
        }
    };

    // Answer the client as the backend answered us.
    let extensions: Vec<Box<dyn Extension>> = backend_leg
        .extensions()
        .iter()
        .find_map(|ext| ext.relay_params())
        .map(|negotiated| Box::new(PerMessageDeflate::new(mirror(negotiated))) as _)
        .into_iter()
        .collect();
    let Ok(ServerHandshake::Request(request)) =
        Pending::<Server>::new(leg_config(), extensions).receive(&head)
    else {
        return Err(io::Error::other(
            "the request parsed differently the second time",
        ));
    };
    let mut accept = Accept::new();
    if let Some(subprotocol) = backend_leg.subprotocol() {
        accept = accept.subprotocol(subprotocol);
    }
    let client_leg = request.accept(accept).map_err(io::Error::other)?;
    relay(client, client_leg, backend, backend_leg).await
}

/// The client's first permessage-deflate offer, as the configuration that
/// offers the same to the backend; `None` when it made none this proxy can
/// mirror. An offer without `client_max_window_bits` is not mirrored: the
/// backend could then limit the window the client compresses with, and the
/// client could not be told.
pub fn deflate_offer(offers: &[ExtensionOffer]) -> Option<DeflateConfig> {
    let window = |value: &Option<String>| -> Option<u8> {
        value
            .as_deref()?
            .parse()
            .ok()
            .filter(|bits| (8..=15).contains(bits))
    };
    offers
        .iter()
        .filter(|offer| offer.name.eq_ignore_ascii_case("permessage-deflate"))
        .find_map(|offer| {
            let mut config = DeflateConfig::default();
            let mut client_window_offered = false;
            let mut seen = Vec::new();
            for (name, value) in &offer.params {
                let name = name.to_ascii_lowercase();
                // A repeated parameter makes the offer invalid (RFC 7692 §7).
                if seen.contains(&name) {
                    return None;
                }
                seen.push(name.clone());
                match name.as_str() {
                    "server_no_context_takeover" if value.is_none() => {
                        config.server_no_context_takeover = true;
                    }
                    "client_no_context_takeover" if value.is_none() => {
                        config.client_no_context_takeover = true;
                    }
                    "server_max_window_bits" => {
                        config.server_max_window_bits = Some(window(value)?)
                    }
                    "client_max_window_bits" => {
                        client_window_offered = true;
                        config.client_max_window_bits = match value {
                            Some(_) => Some(window(value)?),
                            None => None,
                        };
                    }
                    _ => return None,
                }
            }
            client_window_offered.then_some(config)
        })
}

/// The server-side configuration that answers the client with what the
/// backend chose (`backend` is the proxy's client leg's view): the backend's
/// compressor rules become ours towards the client, and the rules the
/// backend set for our compressor become the client's.
pub fn mirror(backend: Negotiated) -> DeflateConfig {
    DeflateConfig::default()
        .with_server_no_context_takeover(backend.receive_no_context_takeover)
        .with_server_max_window_bits(Some(backend.receive_max_window_bits))
        .with_client_no_context_takeover(backend.send_no_context_takeover)
        .with_client_max_window_bits(Some(backend.send_max_window_bits))
}

/// Headers that belong to one connection or to the WebSocket handshake
/// itself: the backend leg makes its own (RFC 9110 §7.6.1, RFC 6455 §4.1).
const NOT_FORWARDED: [HeaderName; 13] = [
    header::HOST,
    header::CONNECTION,
    header::UPGRADE,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
    header::SEC_WEBSOCKET_EXTENSIONS,
    header::SEC_WEBSOCKET_PROTOCOL,
    header::SEC_WEBSOCKET_ACCEPT,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::PROXY_AUTHORIZATION,
];

/// Whether `path` has a `.` or `..` segment: one that a backend resolving
/// it could use to climb out of the prefix the proxy puts in front of it
/// (RFC 3986 §5.2.4). Dots and separators count percent-encoded too, and a
/// backslash counts as a separator (some servers take it for one).
pub fn has_dot_segment(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    let path = path
        .replace("%2e", ".")
        .replace("%2f", "/")
        .replace("%5c", "/")
        .replace('\\', "/");
    path.split('/')
        .any(|segment| segment == "." || segment == "..")
}

/// The backend's request for a client's `request` from `peer`: `backend_url`
/// with the client's path appended to its path and the client's query to
/// its query; the client's headers but those of the connection and the
/// handshake (`NOT_FORWARDED`, `Keep-Alive`, `Proxy-Connection` and any the
/// client's `Connection` header names); the client's subprotocols; and
/// `X-Forwarded-For` with the client's address appended.
pub fn backend_request(
    backend_url: &str,
    request: &http::Request<()>,
    peer: Option<SocketAddr>,
    subprotocols: &[String],
) -> Result<http::Request<()>, String> {
    let base: http::Uri = backend_url
        .parse()
        .map_err(|err| format!("bad backend URL: {err}"))?;
    let (Some(scheme), Some(authority)) = (base.scheme_str(), base.authority()) else {
        return Err("the backend URL needs a scheme and a host".into());
    };
    let path = format!(
        "{}{}",
        base.path().trim_end_matches('/'),
        request.uri().path()
    );
    let query: Vec<&str> = [base.query(), request.uri().query()]
        .into_iter()
        .flatten()
        .filter(|query| !query.is_empty())
        .collect();
    let url = match query.as_slice() {
        [] => format!("{scheme}://{authority}{path}"),
        parts => format!("{scheme}://{authority}{path}?{}", parts.join("&")),
    };

    let hop_by_hop: Vec<String> = request
        .headers()
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut forwarded = http::Request::get(url);
    let headers = forwarded.headers_mut().ok_or("bad backend URL")?;
    for (name, value) in request.headers() {
        let skip = NOT_FORWARDED.contains(name)
            || matches!(name.as_str(), "keep-alive" | "proxy-connection")
            || hop_by_hop.iter().any(|hop| hop == name.as_str());
        if !skip {
            headers.append(name, value.clone());
        }
    }
    if let Some(peer) = peer {
        let for_header = HeaderName::from_static("x-forwarded-for");
        let earlier = headers
            .get_all(&for_header)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        let chain = match earlier.as_str() {
            "" => peer.ip().to_string(),
            earlier => format!("{earlier}, {}", peer.ip()),
        };
        let chain = HeaderValue::from_str(&chain).map_err(|err| err.to_string())?;
        headers.insert(for_header, chain);
    }
    if !subprotocols.is_empty() {
        let offered = HeaderValue::from_str(&subprotocols.join(", ")).map_err(|e| e.to_string())?;
        headers.insert(SEC_WEBSOCKET_PROTOCOL, offered);
    }
    forwarded.body(()).map_err(|err| err.to_string())
}

/// Connects to the backend (TLS through `connector` for `wss://`) and runs
/// the client handshake for `request`, offering `deflate`.
async fn connect_backend(
    request: http::Request<()>,
    deflate: Option<DeflateConfig>,
    connector: &Connector,
) -> Result<(MaybeTlsStream<TcpStream>, Open<Client>), String> {
    let extensions: Vec<Box<dyn Extension>> = deflate
        .map(|config| Box::new(PerMessageDeflate::new(config)) as _)
        .into_iter()
        .collect();
    let (mut pending, bytes) =
        Pending::<Client>::new(request, leg_config(), extensions).map_err(|err| err.to_string())?;
    let target = pending
        .target()
        .ok_or("the backend URL has no host")?
        .clone();
    let handshake = async {
        let mut io = connector
            .open(&target)
            .await
            .map_err(|err| err.to_string())?;
        io.write_all(&bytes).await.map_err(|err| err.to_string())?;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = io.read(&mut buf).await.map_err(|err| err.to_string())?;
            if n == 0 {
                return Err("the backend closed the connection during the handshake".into());
            }
            match pending.receive(&buf[..n]).map_err(|err| err.to_string())? {
                ClientHandshake::Pending(next) => pending = next,
                ClientHandshake::Open(open, _response) => return Ok((io, open)),
                ClientHandshake::Rejected(rejected) => {
                    return Err(format!("answered {}", rejected.response().status()));
                }
            }
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, handshake)
        .await
        .map_err(|_| "timed out".to_owned())?
}

/// One leg: its socket's state beside its connection.
struct Leg<R: Role> {
    ws: WebSocket<R>,
    /// Outgoing bytes taken from `ws`, being written.
    writing: Bytes,
    /// The socket's read side ended.
    read_eof: bool,
}

impl<R: Role> Leg<R> {
    fn new(open: Open<R>) -> Self {
        Self {
            ws: open.into(),
            writing: Bytes::new(),
            read_eof: false,
        }
    }

    /// Bytes waiting to be written.
    fn backlog(&self) -> usize {
        self.writing.len() + self.ws.outgoing_len()
    }

    /// Whether this leg's socket should be read now, given the other leg's
    /// backlog.
    fn may_read(&self, other_backlog: usize) -> bool {
        !self.read_eof && !self.ws.is_closed() && other_backlog < HIGH_WATER
    }

    /// Takes the next outgoing piece, once the previous one is written.
    fn refill(&mut self) {
        if self.writing.is_empty()
            && let Some(next) = self.ws.poll_transmit()
        {
            self.writing = next;
        }
    }

    /// Whether a close handshake has begun on this leg (either side's).
    fn closing(&self) -> bool {
        !matches!(self.ws, WebSocket::Open(_))
    }

    /// Done: closed, and everything written.
    fn finished(&self) -> bool {
        self.ws.is_closed() && self.backlog() == 0
    }
}

/// Which leg a frame or an error came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The client's leg (our server role).
    Client,
    /// The backend's leg (our client role).
    Backend,
}

/// Forwards frames both ways until both legs are closed and written out.
async fn relay(
    mut client_tcp: TcpStream,
    client_leg: Open<Server>,
    backend_io: MaybeTlsStream<TcpStream>,
    backend_leg: Open<Client>,
) -> io::Result<()> {
    let mut client = Leg::new(client_leg);
    let mut backend = Leg::new(backend_leg);
    // Frames that came right behind the client's request (and the 101 to
    // write) are already in the client leg.
    pump(&mut client.ws, &mut backend.ws, Side::Client);
    pump(&mut backend.ws, &mut client.ws, Side::Backend);
    let (mut client_read, mut client_write) = client_tcp.split();
    let (mut backend_read, mut backend_write) = tokio::io::split(backend_io);
    let mut client_buf = vec![0u8; READ_SIZE];
    let mut backend_buf = vec![0u8; READ_SIZE];
    let mut close_due: Option<Instant> = None;
    loop {
        client.refill();
        backend.refill();
        if client.finished() && backend.finished() {
            break;
        }
        // Once a close has begun anywhere, both handshakes get
        // CLOSE_TIMEOUT to finish: a peer that never answers cannot keep
        // the other leg (or this task) forever.
        if close_due.is_none() && (client.closing() || backend.closing()) {
            close_due = Some(Instant::now() + CLOSE_TIMEOUT);
        }
        let read_client = client.may_read(backend.backlog());
        let read_backend = backend.may_read(client.backlog());
        tokio::select! {
            read = client_read.read(&mut client_buf), if read_client => {
                let n = read.unwrap_or(0);
                receive(&mut client, &client_buf[..n]);
                pump(&mut client.ws, &mut backend.ws, Side::Client);
            }
            read = backend_read.read(&mut backend_buf), if read_backend => {
                let n = read.unwrap_or(0);
                receive(&mut backend, &backend_buf[..n]);
                pump(&mut backend.ws, &mut client.ws, Side::Backend);
            }
            written = client_write.write(&client.writing), if !client.writing.is_empty() => {
                let n = written?;
                let _ = client.writing.split_to(n);
            }
            written = backend_write.write(&backend.writing), if !backend.writing.is_empty() => {
                let n = written?;
                let _ = backend.writing.split_to(n);
            }
            () = sleep_until(close_due), if close_due.is_some() => break,
            // Not reached: with reads off, a write or the close timer is on.
            else => break,
        }
    }
    // RFC 6455 §7.1.1: the server (our client leg) ends the TCP connection
    // first; towards the backend we are the client, and end ours as well,
    // since nothing more can come that we would forward.
    let _ = client_write.shutdown().await;
    let _ = backend_write.shutdown().await;
    Ok(())
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

/// Feeds what a read returned (nothing: the end of the transport).
fn receive<R: Role>(leg: &mut Leg<R>, data: &[u8]) {
    if data.is_empty() {
        leg.read_eof = true;
        leg.ws.receive_eof();
    } else {
        // Every read is decoded at once, so the receive buffer never holds
        // more than one read and an unfinished header: nothing is refused.
        let _ = leg.ws.receive(data);
    }
}

/// Decodes everything `from` has, and forwards it to `to`.
fn pump<A: Role, B: Role>(from: &mut WebSocket<A>, to: &mut WebSocket<B>, side: Side) {
    loop {
        let event = match from.poll_event() {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(err) => {
                // `from` already queued its close with the error's code.
                let (code, reason) = match side {
                    Side::Client => (err.code, format!("client: {}", err.reason)),
                    Side::Backend => (CloseCode::BAD_GATEWAY, format!("backend: {}", err.reason)),
                };
                to.close(code, &reason);
                return;
            }
        };
        match event {
            Event::Frame(frame) => {
                // After `to`'s close, frames still in flight are dropped.
                if let Some(open) = to.as_open()
                    && let Err(err) = open.send_frame(&frame)
                {
                    let reason = format!("proxy: {err}");
                    to.close(CloseCode::INTERNAL_ERROR, &reason);
                    from.close(CloseCode::INTERNAL_ERROR, &reason);
                    return;
                }
            }
            Event::Ping(payload) => {
                if let Some(open) = to.as_open() {
                    let _ = open.send_ping(&payload);
                }
            }
            Event::Pong(payload) => {
                if let Some(open) = to.as_open() {
                    let _ = open.send_pong(&payload);
                }
            }
            Event::Close(frame) => {
                // The peer's close, or its reply to the close we forwarded:
                // either way it goes on, and the other leg's reply comes
                // back the same way. No close frame at all (1006) is a peer
                // going away.
                let code = if frame.code == CloseCode::ABNORMAL_CLOSURE {
                    CloseCode::GOING_AWAY
                } else {
                    frame.code
                };
                to.close(code, &frame.reason);
                // If `to` is over (its peer had closed, or broke the
                // protocol), no reply will come back through it: `from`
                // answers its peer itself.
                if to.is_closed() {
                    from.close(code, &frame.reason);
                }
            }
            _ => {}
        }
    }
}
