//! A closed connection sends nothing more.

use wsproto::{Client, WebSocket};

fn after(ws: WebSocket<Client>) {
    if let WebSocket::Closed(mut closed) = ws {
        let _ = closed.send_ping(b"anyone?");
    }
}

fn main() {}
