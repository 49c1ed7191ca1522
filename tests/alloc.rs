//! Zero allocations per message in steady state (issue 6).
//!
//! A counting global allocator (only in this test binary) counts the
//! allocations each thread makes. After a warm-up that lets every buffer
//! reach its working size, N more messages must cost no allocation at all,
//! in both directions:
//!
//! - a server receiving masked frames and echoing each message back with
//!   the zero-copy `send_*_shared`, drained by `outgoing_slices` /
//!   `advance_outgoing` (the echo server's loop) or by `take_outgoing`;
//! - a client sending messages and receiving unmasked ones.
//!
//! The caller's side of the contract: **drop every event payload (and every
//! `take_outgoing` buffer) before the next `receive`/send.** Payloads are
//! zero-copy views of the connection's buffers; a buffer can only be reused
//! once nobody else holds a view of it. Keeping a payload alive is allowed,
//! it just makes the next buffer a fresh allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::IoSlice;

use bytes::Bytes;
use wsproto::{Client, Config, Event, Open, Server};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the allocator may run while the thread is being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// Safety: every method forwards to `System` with the caller's arguments
// unchanged; counting touches only a const-initialized thread-local `Cell`,
// which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // Safety: forwarded as received; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // Safety: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // Safety: `ptr` and `layout` come from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Safety: `ptr` and `layout` come from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (including reallocations) made by this thread during `f`.
fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Sizes across every header form and both sides of the server's
/// copy/zero-copy threshold (4 KiB); all below the 16 MiB frame limit.
const SIZES: [usize; 8] = [0, 16, 125, 126, 1000, 4096, 65_536, 1 << 20];
/// Rounds before counting: every buffer reaches its working size.
const WARM_UP: usize = 4;

/// Messages counted after the warm-up (fewer for the large sizes, which
/// are slow in a debug build).
fn messages_for(size: usize) -> usize {
    if size >= 65_536 { 20 } else { 200 }
}

/// `size` bytes of text mixing 1-, 2- and 3-byte characters.
fn text(size: usize) -> String {
    let mut text = String::with_capacity(size);
    for c in "añb€".chars().cycle() {
        if text.len() + c.len_utf8() > size {
            break;
        }
        text.push(c);
    }
    while text.len() < size {
        text.push(' ');
    }
    text
}

/// Writes everything queued the way the echo server does, dropping it.
fn drain_vectored<R: wsproto::Role>(ws: &mut Open<R>) -> usize {
    let mut total = 0;
    loop {
        let mut slices = [IoSlice::new(&[]); 16];
        let count = ws.outgoing_slices(&mut slices);
        if count == 0 {
            return total;
        }
        let len: usize = slices[..count].iter().map(|s| s.len()).sum();
        ws.advance_outgoing(len);
        total += len;
    }
}

/// `count` masked client frames of one message each.
fn client_frames(payload: &str, binary: bool, count: usize) -> Bytes {
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    for _ in 0..count {
        if binary {
            client.send_binary(payload.as_bytes()).unwrap();
        } else {
            client.send_text(payload).unwrap();
        }
    }
    client.take_outgoing()
}

/// `count` unmasked server frames of one message each.
fn server_frames(payload: &str, binary: bool, count: usize) -> Bytes {
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    for _ in 0..count {
        if binary {
            server.send_binary(payload.as_bytes()).unwrap();
        } else {
            server.send_text(payload).unwrap();
        }
    }
    server.take_outgoing()
}

/// The server side of an echo: one `receive` of `batch` frames, every
/// message echoed with the zero-copy send, the replies drained.
fn echo_round(server: &mut Open<Server>, input: &[u8], batch: usize, vectored: bool) {
    server.receive(input).unwrap();
    let mut got = 0;
    while let Some(event) = server.poll_event().unwrap() {
        match event {
            Event::Text(text) => server.send_text_shared(text).unwrap(),
            Event::Binary(data) => server.send_binary_shared(data).unwrap(),
            other => panic!("unexpected {other:?}"),
        }
        got += 1;
    }
    assert_eq!(got, batch);
    if vectored {
        drain_vectored(server);
    } else {
        drop(server.take_outgoing());
    }
}

#[test]
fn text_helper_makes_exact_sizes() {
    for size in SIZES {
        assert_eq!(text(size).len(), size);
    }
}

#[test]
fn server_echo_allocates_nothing_per_message() {
    for size in SIZES {
        for binary in [false, true] {
            // Batches of large messages add nothing but time.
            let batches: &[usize] = if size >= 65_536 { &[1] } else { &[1, 8] };
            for &batch in batches {
                for vectored in [true, false] {
                    let payload = text(size);
                    let input = client_frames(&payload, binary, batch);
                    let mut server = Open::<Server>::new(Config::default(), Vec::new());
                    for _ in 0..WARM_UP {
                        echo_round(&mut server, &input, batch, vectored);
                    }
                    let messages = messages_for(size);
                    let allocations = allocations_during(|| {
                        for _ in 0..messages {
                            echo_round(&mut server, &input, batch, vectored);
                        }
                    });
                    assert_eq!(
                        allocations,
                        0,
                        "server echo: size {size}, binary {binary}, batch {batch}, \
                         vectored {vectored}: {allocations} allocations for {} messages",
                        messages * batch
                    );
                }
            }
        }
    }
}

#[test]
fn client_send_and_receive_allocate_nothing_per_message() {
    for size in SIZES {
        for binary in [false, true] {
            for vectored in [true, false] {
                let payload = text(size);
                let inbound = server_frames(&payload, binary, 1);
                let mut client = Open::<Client>::new(Config::default(), Vec::new());
                let mut round = || {
                    if binary {
                        client.send_binary(payload.as_bytes()).unwrap();
                    } else {
                        client.send_text(&payload).unwrap();
                    }
                    if vectored {
                        drain_vectored(&mut client);
                    } else {
                        drop(client.take_outgoing());
                    }
                    client.receive(&inbound).unwrap();
                    match client.poll_event().unwrap() {
                        Some(Event::Text(t)) => assert_eq!(t.len(), size),
                        Some(Event::Binary(b)) => assert_eq!(b.len(), size),
                        other => panic!("unexpected {other:?}"),
                    }
                    assert_eq!(client.poll_event().unwrap(), None);
                };
                for _ in 0..WARM_UP {
                    round();
                }
                let messages = messages_for(size);
                let allocations = allocations_during(|| {
                    for _ in 0..messages {
                        round();
                    }
                });
                assert_eq!(
                    allocations, 0,
                    "client: size {size}, binary {binary}, vectored {vectored}: \
                     {allocations} allocations for {messages} round trips"
                );
            }
        }
    }
}

/// Large messages arriving in socket-sized reads that cut frames anywhere:
/// once warm, the receive buffer's allocation is reused for every message
/// (the payloads are dropped before the next read), so no message pays for
/// a fresh allocation or a reallocation.
#[test]
fn large_messages_in_reads_reuse_the_receive_buffer() {
    const READ: usize = 64 * 1024;
    for size in [100_000, 1 << 20, 3 << 20] {
        for binary in [false, true] {
            let messages = 12;
            let input = client_frames(&text(size), binary, messages);
            let config = Config::default().with_max_receive_buffer(READ);
            let mut server = Open::<Server>::new(config, Vec::new());
            let round = |server: &mut Open<Server>| {
                let mut got = 0;
                for piece in input.chunks(READ) {
                    server.receive(piece).unwrap();
                    while let Some(event) = server.poll_event().unwrap() {
                        assert!(matches!(event, Event::Text(_) | Event::Binary(_)));
                        got += 1;
                    }
                }
                assert_eq!(got, messages);
            };
            round(&mut server);
            let allocations = allocations_during(|| round(&mut server));
            assert_eq!(
                allocations, 0,
                "size {size}, binary {binary}: {allocations} allocations for {messages} messages"
            );
        }
    }
}
