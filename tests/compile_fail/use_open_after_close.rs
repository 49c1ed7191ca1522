//! `close` consumes the `Open` connection, so it cannot be used afterwards.

use wsproto::{CloseCode, Config, Open, Server};

fn main() {
    let mut open = Open::<Server>::new(Config::default(), Vec::new());
    let _closing = open.close(CloseCode::NORMAL, "bye");
    let _ = open.send_binary(b"too late");
}
