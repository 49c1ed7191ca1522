//! A closed connection cannot start another close handshake.

use wsproto::{CloseCode, Server, WebSocket};

fn after(ws: WebSocket<Server>) {
    if let WebSocket::Closed(closed) = ws {
        let _ = closed.close(CloseCode::NORMAL, "again");
    }
}

fn main() {}
