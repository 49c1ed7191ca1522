//! Memory held by one idle open connection (issue 6): the connection value
//! itself (`size_of`) plus the heap it still holds after the handshake and
//! one small message echoed, for wsproto and for the peers, measured with a
//! counting global allocator.
//!
//! ```text
//! cargo run --release -p wsproto-benches --example conn_memory
//! ```
//!
//! The peers are built straight over an in-memory stream (their
//! `from_raw_socket` / `after_handshake` / `serve`), so their figure has no
//! handshake leftovers; ours goes through `Pending::<Server>` and `accept`,
//! which can only add to it. For the async peers `size_of` is taken with
//! `tokio::net::TcpStream` as the stream type, as a server would hold it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use wsproto::handshake::{Accept, ServerHandshake};
use wsproto::{Client, Config, Event, Open, Pending, Server};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// Safety: every method forwards to `System` with the caller's arguments
// unchanged; the bookkeeping is one atomic add.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // Safety: forwarded as received.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // Safety: forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // Safety: `ptr` and `layout` come from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // Safety: `ptr` and `layout` come from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Reads serve `input`; writes are counted and dropped.
struct MemStream {
    input: Vec<u8>,
    pos: usize,
}

impl io::Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }
}

impl io::Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for MemStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = buf.remaining().min(this.input.len() - this.pos);
        if n == 0 {
            return Poll::Pending;
        }
        buf.put_slice(&this.input[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// One masked 32-byte text message, as a client sends it.
fn small_message() -> Vec<u8> {
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    client
        .send_text("hello, this is a small message!!")
        .expect("send");
    client.take_outgoing().to_vec()
}

fn row(name: &str, size_of: usize, heap: isize) {
    println!(
        "| {name} | {size_of} | {heap} | {} |",
        size_of as isize + heap
    );
}

/// Ours: handshake through `Pending`, one message echoed with the echo
/// server's calls. `read_reserve` is what the transport loop reserves in the
/// receive buffer before each read (examples/echo_server.rs: 64 KiB).
fn wsproto_server(read_reserve: usize) -> isize {
    let message = small_message();
    let before = live();
    let pending = Pending::<Server>::new(Config::default(), Vec::new());
    let request = match pending.receive(REQUEST).expect("valid request") {
        ServerHandshake::Request(request) => request,
        ServerHandshake::Pending(_) => panic!("whole request given"),
    };
    let mut ws = request.accept(Accept::new()).expect("accept");
    drop(ws.take_outgoing());
    let recv = ws.receive_buffer().expect("room");
    recv.reserve(read_reserve);
    recv.extend_from_slice(&message);
    while let Some(event) = ws.poll_event().expect("valid") {
        if let Event::Text(text) = event {
            ws.send_text_shared(text).expect("send");
        }
    }
    drop(ws.take_outgoing());
    // Idle: the loop reserves again before the next read.
    ws.receive_buffer().expect("room").reserve(read_reserve);
    let heap = live() - before;
    std::hint::black_box(&ws);
    drop(ws);
    heap
}

/// Ours on the async adapter (`wsproto::stream`): `stream::accept` reads
/// the request, one message is echoed (`next`, `feed`), then `next` is
/// polled once more: it flushes the echo, finds nothing to read and leaves
/// the connection idle.
fn wsproto_stream_server(rt: &tokio::runtime::Runtime) -> isize {
    use futures_util::FutureExt;
    let mut input = REQUEST.to_vec();
    input.extend_from_slice(&small_message());
    let before = live();
    let mut ws = rt.block_on(async {
        let mut ws = wsproto::stream::accept(MemStream { input, pos: 0 })
            .await
            .expect("handshake");
        let message = ws.next().await.expect("message").expect("valid");
        ws.feed(message).await.expect("echo");
        assert!(ws.next().now_or_never().is_none(), "idle");
        ws
    });
    let heap = live() - before;
    std::hint::black_box(&mut ws);
    drop(ws);
    heap
}

fn tungstenite_server() -> isize {
    let message = small_message();
    let before = live();
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        MemStream {
            input: message,
            pos: 0,
        },
        tungstenite::protocol::Role::Server,
        None,
    );
    let msg = ws.read().expect("message");
    ws.send(msg).expect("echo");
    let heap = live() - before;
    drop(ws);
    heap
}

fn fastwebsockets_server(rt: &tokio::runtime::Runtime) -> isize {
    let message = small_message();
    let before = live();
    let ws = fastwebsockets::WebSocket::after_handshake(
        MemStream {
            input: message,
            pos: 0,
        },
        fastwebsockets::Role::Server,
    );
    let mut ws = fastwebsockets::FragmentCollector::new(ws);
    rt.block_on(async {
        let frame = ws.read_frame().await.expect("message");
        ws.write_frame(frame).await.expect("echo");
    });
    let heap = live() - before;
    drop(ws);
    heap
}

fn tokio_websockets_server(rt: &tokio::runtime::Runtime) -> isize {
    let message = small_message();
    let before = live();
    let mut ws = tokio_websockets::ServerBuilder::new().serve(MemStream {
        input: message,
        pos: 0,
    });
    rt.block_on(async {
        let msg = ws.next().await.expect("message").expect("valid");
        ws.send(msg).await.expect("echo");
    });
    let heap = live() - before;
    drop(ws);
    heap
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    println!("| connection | size_of (B) | heap after handshake + 1 small echo (B) | total (B) |");
    println!("|---|---|---|---|");
    let ours = std::mem::size_of::<Open<Server>>();
    row(
        "wsproto `Open<Server>`, sans-IO `receive`",
        ours,
        wsproto_server(0),
    );
    row(
        "wsproto `Open<Server>`, echo_server loop (64 KiB read reserve)",
        ours,
        wsproto_server(64 << 10),
    );
    row(
        "wsproto `stream::WebSocketStream<TcpStream, Server>` (async adapter, idle)",
        std::mem::size_of::<wsproto::stream::WebSocketStream<TcpStream, Server>>(),
        wsproto_stream_server(&rt),
    );
    row(
        "tungstenite `WebSocket<TcpStream>` (defaults)",
        std::mem::size_of::<tungstenite::WebSocket<std::net::TcpStream>>(),
        tungstenite_server(),
    );
    row(
        "tokio-tungstenite `WebSocketStream<TcpStream>` (heap as tungstenite)",
        std::mem::size_of::<tokio_tungstenite::WebSocketStream<TcpStream>>(),
        tungstenite_server(),
    );
    row(
        "fastwebsockets `FragmentCollector<TcpStream>`",
        std::mem::size_of::<fastwebsockets::FragmentCollector<TcpStream>>(),
        fastwebsockets_server(&rt),
    );
    row(
        "tokio-websockets `WebSocketStream<TcpStream>`",
        std::mem::size_of::<tokio_websockets::WebSocketStream<TcpStream>>(),
        tokio_websockets_server(&rt),
    );
    println!();
    println!(
        "permessage-deflate: not measured, `wsproto::extensions::deflate` is not in this checkout."
    );
}
