//! What permessage-deflate holds per connection, measured with a counting
//! allocator: the table in `src/extensions/deflate.rs`'s docs, lazy
//! allocation, and freeing under no context takeover. One test only, so
//! no other test allocates while it measures; the counter is global, though,
//! and the test harness's own thread sometimes allocates a few hundred bytes
//! at the same moment (about one run in 15 put one table cell 1 KiB over),
//! so exact figures are the median of five measurements.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::{Client, Config, Event, Open, Server};

// A counting allocator from a crate, so this test needs no `unsafe`.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes currently allocated.
fn live() -> usize {
    let stats = GLOBAL.stats();
    (stats.bytes_allocated as isize - stats.bytes_deallocated as isize + stats.bytes_reallocated)
        as usize
}

/// The median of five runs of `measure`: a figure disturbed by another
/// thread's allocation in one or two of them comes out undisturbed.
fn steady(measure: impl Fn() -> usize) -> usize {
    let mut runs: [usize; 5] = std::array::from_fn(|_| measure());
    runs.sort_unstable();
    runs[2]
}

fn kib(bytes: usize) -> usize {
    (bytes + 512) / 1024
}

/// The module docs' table: KiB by window bits 9..=15 (rows) and
/// `memory_level` 1, 5, 8, 9 (columns).
const DOC_TABLE: [[usize; 4]; 7] = [
    [134, 147, 245, 357],
    [136, 149, 247, 359],
    [140, 153, 251, 363],
    [148, 161, 259, 371],
    [164, 177, 275, 387],
    [196, 209, 307, 419],
    [260, 273, 371, 483],
];

const DOC_INFLATE_BYTES: usize = 47_552;

/// Bytes a compressor of this shape allocates, built as the extension
/// builds it.
fn deflater_bytes(window_bits: u8, memory_level: u8) -> usize {
    let before = live();
    let deflater = zlib_rs::Deflate::new_with_config(zlib_rs::DeflateConfig {
        level: 1,
        window_bits: -i32::from(window_bits),
        mem_level: i32::from(memory_level),
        ..zlib_rs::DeflateConfig::default()
    });
    let bytes = live() - before;
    drop(deflater);
    bytes
}

fn pair(client: DeflateConfig, server: DeflateConfig) -> (Open<Client>, Open<Server>) {
    let mut client_ext = PerMessageDeflate::new(client);
    let mut server_ext = PerMessageDeflate::new(server);
    let response = server_ext.accept(&client_ext.offer().unwrap()).unwrap();
    client_ext.finalize(&response).unwrap();
    (
        Open::<Client>::new(Config::default(), vec![Box::new(client_ext)]),
        Open::<Server>::new(Config::default(), vec![Box::new(server_ext)]),
    )
}

/// Sends one compressed message client to server and returns what both
/// connections hold afterwards, beyond what they held before.
fn held_after_one_message(client: &mut Open<Client>, server: &mut Open<Server>) -> isize {
    let message = "a message of a few hundred bytes, repeated. ".repeat(10);
    let before = live() as isize;
    client.send_text(&message).unwrap();
    let wire = client.take_outgoing();
    server.receive(&wire).unwrap();
    let event = server.poll_event().unwrap();
    assert_eq!(event, Some(Event::Text(message.into())));
    drop((wire, event));
    live() as isize - before
}

#[test]
fn memory_per_connection() {
    // The table in the docs.
    let mut measured = [[0usize; 4]; 7];
    for (row, bits) in (9..=15u8).enumerate() {
        for (col, level) in [1u8, 5, 8, 9].into_iter().enumerate() {
            measured[row][col] = kib(steady(|| deflater_bytes(bits, level)));
        }
    }
    assert_eq!(measured, DOC_TABLE, "update the module docs' table");
    let inflate_bytes = steady(|| {
        let before = live();
        let inflater = zlib_rs::Inflate::new(false, 15);
        let bytes = live() - before;
        drop(inflater);
        bytes
    });
    assert_eq!(inflate_bytes, DOC_INFLATE_BYTES, "update the module docs");

    // Negotiation allocates no compression state; neither does a message
    // under the threshold.
    let before = live();
    let (mut client, mut server) = pair(DeflateConfig::default(), DeflateConfig::default());
    let negotiated = live() - before;
    assert!(negotiated < 8 << 10, "{negotiated}");
    client.send_text("short").unwrap();
    server.receive(&client.take_outgoing()).unwrap();
    server.poll_event().unwrap();
    assert!(live() - before < 16 << 10, "{}", live() - before);

    // With context takeover the state stays: the client's compressor and
    // the server's decompressor, plus small buffers.
    let held = held_after_one_message(&mut client, &mut server);
    let state = (273 << 10) + DOC_INFLATE_BYTES as isize;
    assert!(held >= state && held < state + (16 << 10), "{held}");

    // Without context takeover both are freed after each message.
    let no_takeover = DeflateConfig::default()
        .with_client_no_context_takeover(true)
        .with_server_no_context_takeover(true);
    let (mut client, mut server) = pair(no_takeover.clone(), no_takeover);
    held_after_one_message(&mut client, &mut server);
    let held = held_after_one_message(&mut client, &mut server);
    assert!(held.abs() < 4 << 10, "{held}");
}
