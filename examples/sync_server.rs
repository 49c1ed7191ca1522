//! A blocking server on `std::net`, a port of Python wsproto's
//! `synchronous_server.py` onto the [`wsproto::compat`] facade: it accepts
//! connections one at a time, echoes messages, answers pings and completes
//! the close handshake. Everything it does is logged on standard output.
//!
//! ```text
//! cargo run --example sync_server -- [ADDR]    # default 127.0.0.1:8000
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use wsproto::compat::events::AcceptConnection;
use wsproto::compat::{ConnectionState, ConnectionType, Event, ProtocolError, WSConnection};

const RECEIVE_BYTES: usize = 4096;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".to_owned());
    let listener = TcpListener::bind(&addr)?;
    println!("Listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let result = stream.and_then(handle_connection);
        if let Err(err) = result {
            println!("Connection error: {err}");
        }
    }
    Ok(())
}

fn handle_connection(mut stream: TcpStream) -> std::io::Result<()> {
    println!("Connection from {}", stream.peer_addr()?);
    // Connections are served one at a time: don't let an idle one block the
    // next forever.
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut ws = WSConnection::new(ConnectionType::Server);
    let mut buf = [0u8; RECEIVE_BYTES];
    let mut running = true;
    while running {
        let n = stream.read(&mut buf)?;
        println!("Received {n} bytes");
        let mut out = Vec::new();
        match ws.receive_data((n > 0).then_some(&buf[..n])) {
            Ok(()) => {}
            // An invalid request: answer with the rejection it suggests.
            Err(ProtocolError::Remote(err)) => {
                println!("Rejecting the request: {err}");
                if let Some(hint) = err.event_hint {
                    out.extend_from_slice(&send(&mut ws, *hint)?);
                }
                running = false;
            }
            Err(ProtocolError::Local(err)) => return Err(std::io::Error::other(err)),
        }
        while let Some(event) = ws.next_event() {
            match event {
                Event::Request(request) => {
                    println!("Accepting WebSocket upgrade for {}", request.target);
                    out.extend_from_slice(&send(
                        &mut ws,
                        Event::AcceptConnection(AcceptConnection::default()),
                    )?);
                }
                Event::CloseConnection(close) => {
                    println!(
                        "Connection closed: code={} reason={}",
                        close.code.0,
                        close.reason.as_deref().unwrap_or_default()
                    );
                    // The reply: to the peer's close, or after a protocol
                    // error (the state is still open); not after a lost
                    // transport.
                    if matches!(
                        ws.state(),
                        ConnectionState::RemoteClosing | ConnectionState::Open
                    ) {
                        out.extend_from_slice(&send(
                            &mut ws,
                            Event::CloseConnection(close.response()),
                        )?);
                    }
                    running = false;
                }
                Event::TextMessage(message) => {
                    println!("Received message and echoing it: {}", message.data);
                    out.extend_from_slice(&send(&mut ws, Event::TextMessage(message))?);
                }
                Event::BytesMessage(message) => {
                    println!(
                        "Received {} bytes of binary and echoing them",
                        message.data.len()
                    );
                    out.extend_from_slice(&send(&mut ws, Event::BytesMessage(message))?);
                }
                Event::Ping(ping) => {
                    println!("Received ping and sending pong");
                    out.extend_from_slice(&send(&mut ws, Event::Pong(ping.response()))?);
                }
                other => println!("Unknown event: {other:?}"),
            }
        }
        if n == 0 || ws.state() == ConnectionState::Closed {
            running = false;
        }
        println!("Sending {} bytes", out.len());
        stream.write_all(&out)?;
    }
    // RFC 6455 §7.1.1: the server closes the TCP connection first.
    println!("Closing TCP connection");
    stream.shutdown(Shutdown::Both)
}

fn send(ws: &mut WSConnection, event: Event) -> std::io::Result<bytes::Bytes> {
    ws.send(event).map_err(std::io::Error::other)
}
