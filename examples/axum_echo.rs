//! An axum server whose route `/ws` echoes every text and binary message,
//! offering permessage-deflate: the async server in a few lines, on
//! [`wsproto::axum::WebSocketUpgrade`]. The route takes GET (HTTP/1.1's
//! upgrade) and CONNECT (HTTP/2's extended CONNECT, RFC 8441, over
//! cleartext HTTP/2 with prior knowledge).
//!
//! ```text
//! cargo run --release --example axum_echo --features axum -- [ADDR]   # default 127.0.0.1:9003
//! ```
//!
//! A request that is not a valid upgrade gets 400 (or 426 with
//! `Sec-WebSocket-Version: 13` for another protocol version); pings are
//! answered and the close handshake completed by the stream.

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use wsproto::axum::{UpgradedStream, WebSocketUpgrade};
use wsproto::extensions::DeflateConfig;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!("axum_echo listening on ws://{}/ws", listener.local_addr()?);
    axum::serve(listener, app()).await
}

/// The application: one route, for HTTP/1.1 (GET) and HTTP/2 (CONNECT).
pub fn app() -> Router {
    Router::new().route("/ws", get(upgrade).connect(upgrade))
}

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.deflate(DeflateConfig::default()).on_upgrade(echo)
}

/// Echoes until the peer closes. `feed` queues the reply without a write of
/// its own: the next `next()` writes every queued reply at once, then reads.
async fn echo(mut ws: UpgradedStream) {
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.feed(message).await.is_err() {
            break;
        }
    }
}
