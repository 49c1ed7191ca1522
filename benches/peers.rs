//! In-memory throughput against the peers (issues 6 and 12): the same bytes
//! go through wsproto, tungstenite, fastwebsockets, tokio-websockets,
//! nexus-web and sockudo-ws in one run.
//!
//! Every workload pre-encodes its input once; an iteration decodes (or
//! encodes) `n` messages. The peers read from an in-memory stream that hands
//! out at most 64 KiB per read, like a socket would, and our engine is fed
//! the same 64 KiB pieces. Writes go to a sink that only counts bytes, so
//! encode numbers are the libraries' own cost.
//!
//! ```text
//! cargo bench -p wsproto-benches --bench peers                 # everything (~6 min)
//! cargo bench -p wsproto-benches --bench peers -- decode_text  # one workload
//! python3 benches/report.py                                     # markdown tables from target/criterion
//! ```
//!
//! Group names are `<workload>/<implementation>/<payload bytes>`; each
//! benchmark declares `Throughput::ElementsAndBytes`, so criterion prints
//! msg/s and `report.py` adds GB/s and our ratio to every peer.

use std::cell::RefCell;
use std::hint::black_box;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wsproto::{Client, Event, Open, Server};

// Shared with tests/utf8_audit.rs, which drives the same decode loops.
#[path = "harness.rs"]
#[allow(dead_code)] // `set_input` and `Rejected`'s fields serve the audit
mod harness;
use harness::{
    Decode, MAX_READ, MemStream, SIZES, binary_payload, client_frames, fragmented_client_frames,
    messages_for, runtime, sockudo_config, text_payload, tokio_websockets_config,
    tungstenite_config, wsproto_config,
};

/// The size from which `send_binary_shared` queues a payload by reference
/// instead of copying it (`Engine::send_shared`).
const SHARED_FROM: usize = 4096;

/// Drains our outgoing queue into the counting sink, as a vectored write would.
fn wsproto_drain<R: wsproto::Role>(ws: &mut Open<R>) -> usize {
    let mut total = 0;
    loop {
        let mut slices = [IoSlice::new(&[]); 64];
        let count = ws.outgoing_slices(&mut slices);
        if count == 0 {
            return total;
        }
        let len: usize = slices[..count].iter().map(|s| s.len()).sum();
        black_box(&slices[..count]);
        ws.advance_outgoing(len);
        total += len;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

impl Kind {
    fn opcode(self) -> u8 {
        match self {
            Kind::Text => 1,
            Kind::Binary => 2,
        }
    }
    fn payload(self, size: usize) -> Vec<u8> {
        match self {
            Kind::Text => text_payload(size),
            Kind::Binary => binary_payload(size),
        }
    }
}

fn tune(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, size: usize) {
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.sample_size(if size >= 1 << 20 { 10 } else { 20 });
}

/// Benchmarks one implementation's decode loop over a group's input.
struct DecodeBench<'a, 'g> {
    group: &'a mut criterion::BenchmarkGroup<'g, criterion::measurement::WallTime>,
    input: &'a Bytes,
    n: usize,
    size: usize,
}

impl harness::Visit for DecodeBench<'_, '_> {
    fn visit<D: Decode>(&mut self) {
        let mut decoder = D::new(self.input.clone());
        let n = self.n;
        self.group
            .bench_function(BenchmarkId::new(D::NAME, self.size), |b| {
                b.iter(|| decoder.decode(n, harness::consume).expect("valid input"));
            });
    }
}

/// Server decode: masked client frames → whole messages.
fn decode_group(c: &mut Criterion, name: &str, input: &Bytes, n: usize, size: usize) {
    let mut group = c.benchmark_group(name);
    tune(&mut group, size);
    group.throughput(Throughput::ElementsAndBytes {
        elements: n as u64,
        bytes: (n * size) as u64,
    });

    // The floor for the "decode at 60 % of memcpy" target: the same bytes
    // copied in the same read-sized pieces into one reused buffer the size
    // of a message (what any decoder must at least do with them), nothing else.
    let mut copy = vec![0u8; input.len().min(size + 14).max(MAX_READ)];
    group.bench_function(BenchmarkId::new("memcpy", size), |b| {
        b.iter(|| {
            let mut at = 0;
            for piece in input.chunks(MAX_READ) {
                if at + piece.len() > copy.len() {
                    at = 0;
                }
                copy[at..at + piece.len()].copy_from_slice(piece);
                at += piece.len();
                black_box(&copy[..at]);
            }
        });
    });
    drop(copy);

    // Ours (owned and borrowed events) and the five peers, each through its
    // loop in harness.rs, the one tests/utf8_audit.rs drives.
    harness::for_each_decoder(&mut DecodeBench {
        group: &mut group,
        input,
        n,
        size,
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    for kind in [Kind::Text, Kind::Binary] {
        let name = match kind {
            Kind::Text => "decode_text",
            Kind::Binary => "decode_binary",
        };
        for size in SIZES {
            let n = messages_for(size);
            let input = client_frames(kind.opcode(), &kind.payload(size), n);
            decode_group(c, name, &input, n, size);
        }
    }
}

/// A 1 KiB message sent in 16 fragments of 64 bytes.
fn fragmented(c: &mut Criterion) {
    const SIZE: usize = 1 << 10;
    const FRAGMENTS: usize = 16;
    for kind in [Kind::Text, Kind::Binary] {
        let name = match kind {
            Kind::Text => "fragmented_text",
            Kind::Binary => "fragmented_binary",
        };
        let n = messages_for(SIZE);
        let input = fragmented_client_frames(kind.opcode(), &kind.payload(SIZE), FRAGMENTS, n);
        decode_group(c, name, &input, n, SIZE);
    }
}

/// Encode: `n` binary messages, server (unmasked) or client (masked), each
/// implementation's idiomatic batched write path, into the counting sink.
fn encode(c: &mut Criterion) {
    for client in [false, true] {
        let name = if client {
            "encode_client"
        } else {
            "encode_server"
        };
        for size in SIZES {
            let n = messages_for(size);
            let payload = Bytes::from(binary_payload(size));
            let mut group = c.benchmark_group(name);
            tune(&mut group, size);
            group.throughput(Throughput::ElementsAndBytes {
                elements: n as u64,
                bytes: (n * size) as u64,
            });

            if client {
                let mut ws = Open::<Client>::new(wsproto_config(), Vec::new());
                group.bench_function(BenchmarkId::new("wsproto", size), |b| {
                    b.iter(|| {
                        for _ in 0..n {
                            ws.send_binary(&payload).expect("send");
                        }
                        black_box(wsproto_drain(&mut ws));
                    });
                });
            } else if size < SHARED_FROM {
                // Below the size where sharing pays, the copying send, like
                // fastwebsockets' borrowed payload.
                let mut ws = Open::<Server>::new(wsproto_config(), Vec::new());
                group.bench_function(BenchmarkId::new("wsproto", size), |b| {
                    b.iter(|| {
                        for _ in 0..n {
                            ws.send_binary(&payload).expect("send");
                        }
                        black_box(wsproto_drain(&mut ws));
                    });
                });
            } else {
                // The server's zero-copy path, as the echo server uses it.
                let mut ws = Open::<Server>::new(wsproto_config(), Vec::new());
                group.bench_function(BenchmarkId::new("wsproto", size), |b| {
                    b.iter(|| {
                        for _ in 0..n {
                            ws.send_binary_shared(payload.clone()).expect("send");
                        }
                        black_box(wsproto_drain(&mut ws));
                    });
                });
            }

            let stream = MemStream::new(Bytes::new());
            let role = if client {
                tungstenite::protocol::Role::Client
            } else {
                tungstenite::protocol::Role::Server
            };
            let mut ws = tungstenite::WebSocket::from_raw_socket(
                stream.clone(),
                role,
                Some(tungstenite_config()),
            );
            group.bench_function(BenchmarkId::new("tungstenite", size), |b| {
                b.iter(|| {
                    stream.rewind();
                    for _ in 0..n {
                        ws.write(tungstenite::Message::Binary(payload.clone()))
                            .expect("write");
                    }
                    ws.flush().expect("flush");
                    black_box(stream.written());
                });
            });
            drop(ws);

            let rt = runtime();
            let stream = MemStream::new(Bytes::new());
            let role = if client {
                fastwebsockets::Role::Client
            } else {
                fastwebsockets::Role::Server
            };
            let mut ws = fastwebsockets::WebSocket::after_handshake(stream.clone(), role);
            group.bench_function(BenchmarkId::new("fastwebsockets", size), |b| {
                b.iter(|| {
                    stream.rewind();
                    rt.block_on(async {
                        for _ in 0..n {
                            let frame = fastwebsockets::Frame::binary(
                                fastwebsockets::Payload::Borrowed(&payload),
                            );
                            ws.write_frame(frame).await.expect("write");
                        }
                    });
                    black_box(stream.written());
                });
            });
            drop(ws);

            let stream = MemStream::new(Bytes::new());
            let mut ws = if client {
                tokio_websockets::ClientBuilder::new()
                    .config(tokio_websockets_config())
                    .take_over(stream.clone())
            } else {
                tokio_websockets::ServerBuilder::new()
                    .config(tokio_websockets_config())
                    .serve(stream.clone())
            };
            group.bench_function(BenchmarkId::new("tokio-websockets", size), |b| {
                b.iter(|| {
                    stream.rewind();
                    rt.block_on(async {
                        for _ in 0..n {
                            ws.feed(tokio_websockets::Message::binary(payload.clone()))
                                .await
                                .expect("write");
                        }
                        ws.flush().await.expect("flush");
                    });
                    black_box(stream.written());
                });
            });
            drop(ws);

            // nexus-web: `FrameWriter` encodes one whole frame (copied, and
            // masked by a client) into a caller's buffer, which is written
            // at once, as its `Client::send_binary` does. That `Client` is
            // not used here because `from_parts` gives it a fixed 64 KiB
            // write buffer, too small for the larger messages.
            let role = if client {
                nexus_web::ws::Role::Client
            } else {
                nexus_web::ws::Role::Server
            };
            let mut writer = nexus_web::ws::FrameWriter::new(role);
            let mut frame = vec![0u8; writer.max_encoded_len(size)];
            let mut sink = MemStream::new(Bytes::new());
            group.bench_function(BenchmarkId::new("nexus-web", size), |b| {
                b.iter(|| {
                    sink.rewind();
                    for _ in 0..n {
                        let len = writer.encode_binary(&payload, &mut frame);
                        io::Write::write_all(&mut sink, &frame[..len]).expect("write");
                    }
                    black_box(sink.written());
                });
            });

            // sockudo-ws: `feed` corks frames into its write buffer, `flush`
            // writes them (vectored), as its docs advise for batches.
            let stream = MemStream::new(Bytes::new());
            let mut ws = if client {
                sockudo_ws::WebSocketStream::client(stream.clone(), sockudo_config())
            } else {
                sockudo_ws::WebSocketStream::server(stream.clone(), sockudo_config())
            };
            group.bench_function(BenchmarkId::new("sockudo-ws", size), |b| {
                b.iter(|| {
                    stream.rewind();
                    rt.block_on(async {
                        for _ in 0..n {
                            ws.feed(sockudo_ws::Message::Binary(payload.clone()))
                                .await
                                .expect("write");
                        }
                        ws.flush().await.expect("flush");
                    });
                    black_box(stream.written());
                });
            });
            group.finish();
        }
    }
}

// ---- permessage-deflate ------------------------------------------------------

/// Sizes of the compressed round trip (text, context takeover on).
const DEFLATE_SIZES: [usize; 3] = [128, 1 << 10, 64 << 10];

/// The "bare zlib" floor of a permessage-deflate round trip (RFC 7692 §7.2):
/// raw deflate at level 1 with a sync flush, the trailing `00 00 ff ff`
/// removed, then the tail put back and inflated, with flate2 on its zlib-rs
/// backend (this crate asks for it, and sockudo-ws turns it on anyway), the
/// DEFLATE that wsproto and sockudo-ws both wrap.
fn deflate_floor(c: &mut Criterion) {
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
    for size in DEFLATE_SIZES {
        let n = messages_for(size).min(4096);
        let payload = text_payload(size);
        let mut group = c.benchmark_group("deflate_round_trip");
        tune(&mut group, size);
        group.throughput(Throughput::ElementsAndBytes {
            elements: n as u64,
            bytes: (n * size) as u64,
        });
        // Context takeover on both sides: the streams persist across messages.
        let mut compress = Compress::new(Compression::fast(), false);
        let mut decompress = Decompress::new(false);
        let mut wire = Vec::with_capacity(size + 64);
        let mut plain = Vec::with_capacity(size + 64);
        group.bench_function(BenchmarkId::new("zlib-rs", size), |b| {
            b.iter(|| {
                for _ in 0..n {
                    wire.clear();
                    compress
                        .compress_vec(&payload, &mut wire, FlushCompress::Sync)
                        .expect("deflate");
                    while wire.capacity() == wire.len() {
                        wire.reserve(64);
                        compress
                            .compress_vec(&[], &mut wire, FlushCompress::Sync)
                            .expect("deflate");
                    }
                    debug_assert!(wire.ends_with(&[0, 0, 0xff, 0xff]));
                    wire.truncate(wire.len() - 4);
                    wire.extend_from_slice(&[0, 0, 0xff, 0xff]);
                    plain.clear();
                    decompress
                        .decompress_vec(&wire, &mut plain, FlushDecompress::Sync)
                        .expect("inflate");
                    assert_eq!(plain.len(), size);
                }
            });
        });
        // Of the peers only sockudo-ws speaks permessage-deflate
        // (tungstenite 0.30, fastwebsockets 0.10, tokio-websockets 0.13 and
        // nexus-web 0.8 have none).
        wsproto_deflate_round_trip(&mut group, size, n, &payload, negotiated_deflate);
        sockudo_deflate_round_trip(&mut group, size, n, &payload);
        group.finish();
    }
}

/// A client and a server permessage-deflate extension, negotiated with the
/// default offer (context takeover on both sides).
fn negotiated_deflate() -> (
    Box<dyn wsproto::extensions::Extension>,
    Box<dyn wsproto::extensions::Extension>,
) {
    use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
    let mut client = PerMessageDeflate::new(DeflateConfig::default());
    let mut server = PerMessageDeflate::new(DeflateConfig::default());
    let offer = client.offer().expect("a client offers");
    let response = server
        .accept(&offer)
        .expect("the default offer is accepted");
    client
        .finalize(&response)
        .expect("the response fits the offer");
    (Box::new(client), Box::new(server))
}

/// Our permessage-deflate round trip: a client compresses and masks, a
/// server unmasks, inflates and validates.
fn wsproto_deflate_round_trip(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    size: usize,
    n: usize,
    payload: &[u8],
    make: impl Fn() -> (
        Box<dyn wsproto::extensions::Extension>,
        Box<dyn wsproto::extensions::Extension>,
    ),
) {
    let text = std::str::from_utf8(payload).expect("text payload");
    let (client_ext, server_ext) = make();
    let mut client = Open::<Client>::new(wsproto_config(), vec![client_ext]);
    let mut server = Open::<Server>::new(wsproto_config(), vec![server_ext]);
    group.bench_function(BenchmarkId::new("wsproto", size), |b| {
        b.iter(|| {
            for _ in 0..n {
                client.send_text(text).expect("send");
                server.receive(&client.take_outgoing()).unwrap();
                match server.poll_event().expect("valid") {
                    Some(Event::Text(t)) => assert_eq!(t.len(), size),
                    other => panic!("unexpected {other:?}"),
                }
            }
        });
    });
}

/// One direction of a loopback: what one end writes, the other reads, at
/// most [`MAX_READ`] bytes a read. An empty read is the end of the stream.
#[derive(Clone, Default)]
struct Loopback(Rc<RefCell<Vec<u8>>>);

impl AsyncRead for Loopback {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut wire = self.0.borrow_mut();
        let n = wire.len().min(MAX_READ).min(buf.remaining());
        buf.put_slice(&wire[..n]);
        wire.drain(..n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Loopback {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.borrow_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// sockudo-ws's permessage-deflate round trip: a `CompressedWebSocketStream`
/// client sends each message (compress, mask, flush) into a loopback that
/// the server end reads (unmask, inflate, validate). Both ends get the same
/// parameters as ours: level 1, 15-bit windows, context takeover on.
fn sockudo_deflate_round_trip(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    size: usize,
    n: usize,
    payload: &[u8],
) {
    let deflate = sockudo_ws::DeflateConfig {
        compression_level: 1,
        ..sockudo_ws::DeflateConfig::default()
    };
    let wire = Loopback::default();
    let mut client = sockudo_ws::CompressedWebSocketStream::client(
        wire.clone(),
        sockudo_config(),
        deflate.clone(),
    );
    let mut server = sockudo_ws::CompressedWebSocketStream::server(wire, sockudo_config(), deflate);
    let text = Bytes::copy_from_slice(payload);
    let rt = runtime();
    group.bench_function(BenchmarkId::new("sockudo-ws", size), |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..n {
                    client
                        .send(sockudo_ws::Message::Text(text.clone()))
                        .await
                        .expect("send");
                    match server.next().await {
                        Some(Ok(sockudo_ws::Message::Text(t))) => assert_eq!(t.len(), size),
                        other => panic!("unexpected {other:?}"),
                    }
                }
            });
        });
    });
}

criterion_group! {
    name = benches;
    // Plots cost more time than the measurements; report.py makes the tables.
    config = Criterion::default().without_plots();
    targets = decode, fragmented, encode, deflate_floor
}
criterion_main!(benches);
