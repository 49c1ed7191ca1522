//! A `Closing` connection has sent its close frame: it cannot send data.

use wsproto::{Client, CloseCode, Config, Open};

fn main() {
    let open = Open::<Client>::new(Config::default(), Vec::new());
    let mut closing = open.close(CloseCode::NORMAL, "bye");
    let _ = closing.send_text("too late");
}
