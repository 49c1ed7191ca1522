//! Echo servers built on the peers, for `benches/echo_load.sh` (issue 6):
//! each in the idiom of the peer's own examples, with limits raised so
//! 16 MiB messages pass, plus a plain TCP echo as the floor.
//!
//! ```text
//! cargo run --release -p wsproto-benches --example peer_echo -- KIND [ADDR]
//! # KIND: tungstenite|fastwebsockets|tokio-websockets|sockudo-ws|sockudo-ws-deflate|nexus-web|raw
//! ```
//!
//! - `tungstenite`: tokio-tungstenite, `accept_async`, then the read half
//!   filtered to data messages and `forward`ed into the write half (their
//!   echo-server example; `forward` batches writes until the reader pends).
//! - `fastwebsockets`: `FragmentCollector`, `read_frame` → `write_frame`
//!   (their echo example). The upgrade is parsed by hand here instead of
//!   through hyper, so the connection is a bare `TcpStream` as for the others.
//! - `tokio-websockets`: `ServerBuilder::accept`, then `forward` as for
//!   tungstenite.
//! - `sockudo-ws`: the upgrade through its `handshake::parse_request` and
//!   `build_response`, then `WebSocketStream` as a `Stream` + `Sink` (their
//!   echo example), `feed`ing each echo: its read path flushes the corked
//!   frames before it waits for more input, which is its batching.
//! - `sockudo-ws-deflate`: as `sockudo-ws`, but permessage-deflate is
//!   negotiated from the client's offer with sockudo-ws's own
//!   `deflate::negotiate_server_deflate` (what its axum integration does)
//!   against its default `DeflateConfig` (15-bit windows both ways, level 6,
//!   context takeover), and the stream is its `CompressedWebSocketStream`.
//!   An offer it can't take (e.g. `server_max_window_bits=8`: its zlib-rs
//!   backend compresses with 9 to 15 bits) gets no extension in the answer.
//! - `nexus-web`: sans-IO over tokio. Its own server (`Client::accept`)
//!   blocks on a `std` socket, one thread per connection, so instead its
//!   `FrameReader` reads straight from the socket into its buffer, each
//!   borrowed message is encoded by `FrameWriter` into one output buffer,
//!   and that is written when the reader has drained what was read. The
//!   upgrade is parsed by hand, as for fastwebsockets.
//! - `raw`: copies bytes back unchanged; no WebSocket at all.

use futures_util::{SinkExt, StreamExt, TryStreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: usize = 64 << 20;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_default();
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9002".to_owned());
    if !matches!(
        kind.as_str(),
        "tungstenite"
            | "fastwebsockets"
            | "tokio-websockets"
            | "sockudo-ws"
            | "sockudo-ws-deflate"
            | "nexus-web"
            | "raw"
    ) {
        eprintln!(
            "usage: peer_echo tungstenite|fastwebsockets|tokio-websockets|sockudo-ws|\
             sockudo-ws-deflate|nexus-web|raw [ADDR]"
        );
        std::process::exit(2);
    }
    // sockudo-ws calibrates its clock on first use; not inside a connection.
    sockudo_ws::init_clock();
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("peer_echo {kind} listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let kind = kind.clone();
        tokio::spawn(async move {
            let result = match kind.as_str() {
                "tungstenite" => tungstenite_echo(stream).await,
                "fastwebsockets" => fastwebsockets_echo(stream).await,
                "tokio-websockets" => tokio_websockets_echo(stream).await,
                "sockudo-ws" => sockudo_echo(stream).await,
                // Boxed: the task of every kind is as large as the largest
                // future in this match, and the compressed stream is larger.
                "sockudo-ws-deflate" => Box::pin(sockudo_deflate_echo(stream)).await,
                "nexus-web" => nexus_echo(stream).await,
                _ => raw_echo(stream).await,
            };
            if let Err(err) = result {
                // Load generators drop connections without a close frame.
                let _ = err;
            }
        });
    }
}

async fn tungstenite_echo(stream: TcpStream) -> Result<(), BoxError> {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(LIMIT))
        .max_frame_size(Some(LIMIT));
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await?;
    let (write, read) = ws.split();
    read.try_filter(|msg| std::future::ready(msg.is_text() || msg.is_binary()))
        .forward(write)
        .await?;
    Ok(())
}

async fn tokio_websockets_echo(stream: TcpStream) -> Result<(), BoxError> {
    let (_request, ws) = tokio_websockets::ServerBuilder::new()
        .limits(tokio_websockets::Limits::default().max_payload_len(Some(LIMIT)))
        .accept(stream)
        .await?;
    let (write, read) = ws.split();
    read.try_filter(|msg| std::future::ready(msg.is_text() || msg.is_binary()))
        .forward(write)
        .await?;
    Ok(())
}

async fn fastwebsockets_echo(mut stream: TcpStream) -> Result<(), BoxError> {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    upgrade_by_hand(&mut stream).await?;
    let mut ws = WebSocket::after_handshake(stream, Role::Server);
    ws.set_max_message_size(LIMIT);
    let mut ws = FragmentCollector::new(ws);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

/// sockudo-ws's upgrade: `parse_request`, then `build_response`. With
/// `deflate`, the answer takes the first offer `negotiate_server_deflate`
/// accepts under its default policy. Returns what was read past the request
/// and the negotiated parameters, if any.
async fn sockudo_upgrade(
    stream: &mut TcpStream,
    deflate: bool,
) -> Result<
    (
        Option<bytes::Bytes>,
        Option<sockudo_ws::deflate::DeflateNegotiation>,
    ),
    BoxError,
> {
    use sockudo_ws::deflate::{DeflateConfig, negotiate_server_deflate};
    use sockudo_ws::handshake::{build_response, generate_accept_key, parse_request};
    let mut head = bytes::BytesMut::with_capacity(4096);
    loop {
        if stream.read_buf(&mut head).await? == 0 || head.len() > 16 << 10 {
            return Err("bad handshake".into());
        }
        if let Some((request, used)) = parse_request(&head)? {
            let negotiated = request
                .extensions
                .filter(|_| deflate)
                .and_then(|offers| negotiate_server_deflate(offers, &DeflateConfig::default()));
            let answer = negotiated.as_ref().map(|n| n.to_response_header());
            let response =
                build_response(&generate_accept_key(request.key), None, answer.as_deref());
            stream.write_all(&response).await?;
            let leftover = head.split_off(used).freeze();
            return Ok(((!leftover.is_empty()).then_some(leftover), negotiated));
        }
    }
}

fn sockudo_config() -> sockudo_ws::Config {
    sockudo_ws::Config::builder()
        .max_payload_length(LIMIT)
        .build()
}

async fn sockudo_echo(mut stream: TcpStream) -> Result<(), BoxError> {
    let (leftover, _) = sockudo_upgrade(&mut stream, false).await?;
    let ws = sockudo_ws::WebSocketStream::from_raw_with_leftover(
        stream,
        sockudo_ws::Role::Server,
        sockudo_config(),
        leftover,
    );
    sockudo_serve(ws).await
}

async fn sockudo_deflate_echo(mut stream: TcpStream) -> Result<(), BoxError> {
    let (leftover, negotiated) = sockudo_upgrade(&mut stream, true).await?;
    let Some(negotiated) = negotiated else {
        // No acceptable offer: the plain stream, as its axum integration does.
        let ws = sockudo_ws::WebSocketStream::from_raw_with_leftover(
            stream,
            sockudo_ws::Role::Server,
            sockudo_config(),
            leftover,
        );
        return sockudo_serve(ws).await;
    };
    let ws = sockudo_ws::CompressedWebSocketStream::server_with_leftover(
        stream,
        sockudo_config(),
        negotiated.config,
        leftover,
    );
    sockudo_serve(ws).await
}

/// sockudo-ws's echo loop, for its plain and its compressed stream.
async fn sockudo_serve<S>(mut ws: S) -> Result<(), BoxError>
where
    S: futures_util::Stream<Item = sockudo_ws::Result<sockudo_ws::Message>>
        + futures_util::Sink<sockudo_ws::Message, Error = sockudo_ws::Error>
        + Unpin,
{
    use sockudo_ws::Message;
    while let Some(message) = ws.next().await {
        match message? {
            message @ (Message::Text(_) | Message::Binary(_)) => ws.feed(message).await?,
            Message::Close(_) => break,
            // Pongs to pings are sent by the stream itself.
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    Ok(())
}

async fn nexus_echo(mut stream: TcpStream) -> Result<(), BoxError> {
    use nexus_web::ws::{FrameReader, FrameWriter, Message, Role};
    upgrade_by_hand(&mut stream).await?;
    let mut reader = FrameReader::builder()
        .role(Role::Server)
        .max_frame_size(LIMIT as u64)
        .max_message_size(LIMIT)
        .build();
    let mut writer = FrameWriter::new(Role::Server);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if reader.spare().is_empty() {
            // A partial frame at the end of the buffer: move it to the front.
            reader.compact();
        }
        let n = stream.read(reader.spare()).await?;
        if n == 0 {
            return Ok(());
        }
        reader.filled(n);
        while let Some(message) = reader.next()? {
            let payload = match &message {
                Message::Text(text) => text.as_bytes(),
                Message::Binary(data) | Message::Ping(data) => data,
                Message::Close(_) => return Ok(()),
                Message::Pong(_) => continue,
            };
            // FrameWriter encodes into a slice; grow the output to fit.
            let start = out.len();
            out.resize(start + writer.max_encoded_len(payload.len()), 0);
            let len = match message {
                Message::Text(_) => writer.encode_text(payload, &mut out[start..]),
                // The parser leaves pongs to the caller.
                Message::Ping(_) => writer.encode_pong(payload, &mut out[start..])?,
                _ => writer.encode_binary(payload, &mut out[start..]),
            };
            out.truncate(start + len);
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
    }
}

/// A minimal server handshake (RFC 6455 §4.2.2) for fastwebsockets, whose
/// own one needs hyper. The load generator sends nothing after its request
/// before the response, so reading up to the blank line is enough.
async fn upgrade_by_hand(stream: &mut TcpStream) -> Result<(), BoxError> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 || head.len() > 16 << 10 {
            return Err("bad handshake".into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head)?;
    let key = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_owned())
        })
        .ok_or("no Sec-WebSocket-Key")?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        wsproto::handshake::accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await?;
    Ok(())
}

async fn raw_echo(mut stream: TcpStream) -> Result<(), BoxError> {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
