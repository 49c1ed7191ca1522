//! `send_binary_shared` is server-only: client frames are masked, which
//! needs a copy anyway.

use bytes::Bytes;
use wsproto::{Client, Config, Open};

fn main() {
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    let _ = client.send_binary_shared(Bytes::from_static(b"payload"));
}
