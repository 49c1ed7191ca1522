//! The peer's close arrived (auto_close off): only our close reply may be
//! sent, no more messages.

use wsproto::{Server, WebSocket};

fn reply(ws: WebSocket<Server>) {
    if let WebSocket::RemoteClosing(mut remote) = ws {
        let _ = remote.send_text("too late");
    }
}

fn main() {}
