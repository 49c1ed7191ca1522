//! `set_mask_source` is client-only: servers never mask.

use wsproto::{Config, FixedKey, Open, Server};

fn main() {
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    server.set_mask_source(Box::new(FixedKey([1, 2, 3, 4])));
}
