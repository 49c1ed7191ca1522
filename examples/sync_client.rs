//! A blocking client on `std::net`, a port of Python wsproto's
//! `synchronous_client.py` onto the [`wsproto::compat`] facade: it connects,
//! sends a text message and a ping, prints the echo and the pong, and closes
//! cleanly.
//!
//! ```text
//! cargo run --example sync_server &
//! cargo run --example sync_client -- [URL]     # default ws://127.0.0.1:8000/
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use wsproto::CloseCode;
use wsproto::compat::events::{CloseConnection, Ping, Request, TextMessage};
use wsproto::compat::{ConnectionState, ConnectionType, Event, WSConnection};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8000/".to_owned());
    let uri: http::Uri = url.parse()?;
    if uri.scheme_str() != Some("ws") {
        return Err("the URL must start with ws://".into());
    }
    let authority = uri.authority().ok_or("the URL has no host")?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());

    // 0) Open the TCP connection.
    println!(
        "Connecting to {host}:{}",
        authority.port_u16().unwrap_or(80)
    );
    let mut conn = TcpStream::connect((host, authority.port_u16().unwrap_or(80)))?;
    // A silent server fails this demo instead of hanging it.
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;

    // 1) The opening handshake.
    let mut ws = WSConnection::new(ConnectionType::Client);
    net_send(
        &mut conn,
        &ws.send(Event::Request(Request::new(authority.as_str(), target)))?,
    )?;
    handle_events(net_recv(&mut ws, &mut conn)?)?;

    // 2) A message, and its echo.
    let message = "wsproto is great";
    println!("Sending message: {message}");
    net_send(
        &mut conn,
        &ws.send(Event::TextMessage(TextMessage::new(message)))?,
    )?;
    handle_events(net_recv(&mut ws, &mut conn)?)?;

    // 3) A ping, and its pong.
    let payload = Bytes::from_static(b"table tennis");
    println!("Sending ping: {}", String::from_utf8_lossy(&payload));
    net_send(&mut conn, &ws.send(Event::Ping(Ping { payload }))?)?;
    handle_events(net_recv(&mut ws, &mut conn)?)?;

    // 4) The closing handshake: our close, the server's reply, then the
    //    server closes TCP (RFC 6455 §7.1.1).
    println!("Closing WebSocket");
    let close = CloseConnection {
        code: CloseCode::NORMAL,
        reason: Some("sample reason".into()),
    };
    net_send(&mut conn, &ws.send(Event::CloseConnection(close))?)?;
    handle_events(net_recv(&mut ws, &mut conn)?)?;
    if ws.state() != ConnectionState::Closed {
        return Err(format!("closing handshake incomplete: {:?}", ws.state()).into());
    }
    conn.shutdown(Shutdown::Write)?;
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest)?;
    println!("TCP connection closed");
    Ok(())
}

/// Writes bytes the connection produced.
fn net_send(conn: &mut TcpStream, out: &[u8]) -> std::io::Result<()> {
    conn.write_all(out)
}

/// Reads until the connection has events to report, and returns them.
fn net_recv(ws: &mut WSConnection, conn: &mut TcpStream) -> Result<Vec<Event>, Error> {
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf)?;
        ws.receive_data((n > 0).then_some(&buf[..n]))?;
        let events: Vec<Event> = ws.events().collect();
        if !events.is_empty() {
            return Ok(events);
        }
        if n == 0 {
            return Err("the server closed the connection".into());
        }
    }
}

fn handle_events(events: Vec<Event>) -> Result<(), Error> {
    for event in events {
        match event {
            Event::AcceptConnection(_) => println!("WebSocket negotiation complete"),
            Event::TextMessage(message) => println!("Received message: {}", message.data),
            Event::Pong(pong) => {
                println!("Received pong: {}", String::from_utf8_lossy(&pong.payload));
            }
            Event::CloseConnection(close) if close.code == CloseCode::NORMAL => println!(
                "Connection closed: code={} reason={}",
                close.code.0,
                close.reason.unwrap_or_default()
            ),
            other => return Err(format!("Do not know how to handle event: {other:?}").into()),
        }
    }
    Ok(())
}
