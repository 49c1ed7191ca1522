//! Replying to the peer's close consumes the `RemoteClosing` connection.

use wsproto::{CloseCode, Server, WebSocket};

fn reply(ws: WebSocket<Server>) {
    if let WebSocket::RemoteClosing(remote) = ws {
        let _closed = remote.close(CloseCode::NORMAL, "");
        let _ = remote.is_closed();
    }
}

fn main() {}
