//! A tokio echo server on the async adapter (`wsproto::stream`): echoes
//! every text and binary message, answers pings, completes the close
//! handshake, offers permessage-deflate, and answers bad handshakes with the
//! right HTTP status and protocol errors with the right close code. Replies
//! are fed, not sent: every buffered frame is decoded before one vectored
//! write. The serve loop is in `examples/support/echo.rs`, shared with the
//! tests.
//!
//! ```text
//! cargo run --release --features tokio --example echo_server -- [ADDR]   # default 127.0.0.1:9001
//! ```

#[path = "support/echo.rs"]
mod echo;

use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("echo_server listening on ws://{}", listener.local_addr()?);
    let echo = echo::Echo {
        deflate: true,
        ..echo::Echo::default()
    };
    echo.run(listener).await
}
