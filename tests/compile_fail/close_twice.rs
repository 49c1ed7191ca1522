//! Our close frame goes out once: a `Closing` connection cannot close again.

use wsproto::{Client, CloseCode, Config, Open};

fn main() {
    let open = Open::<Client>::new(Config::default(), Vec::new());
    let closing = open.close(CloseCode::NORMAL, "bye");
    let _ = closing.close(CloseCode::NORMAL, "again");
}
