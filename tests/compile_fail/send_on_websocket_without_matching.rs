//! The whole-life holder has no `send_*`: sending needs the `Open` phase,
//! reached by matching or with `as_open`.

use wsproto::{Config, Open, Server, WebSocket};

fn main() {
    let mut ws = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    let _ = ws.send_text("which phase?");
}
