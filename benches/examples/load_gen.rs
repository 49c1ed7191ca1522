//! A WebSocket echo load generator (issue 6): `N` connections each keep `K`
//! messages of `S` bytes in flight against an echo server on this machine,
//! and the echoed messages per second are counted over a fixed time.
//!
//! The masked frames are encoded once and written in batches; the echoes are
//! only counted (every echo frame has the same length), so the generator
//! spends almost nothing per message and the server is what is measured.
//! The opening handshake is written by hand. `--raw` skips it and expects
//! the bytes back unchanged, to measure a plain TCP echo (the floor).
//!
//! ```text
//! cargo run --release -p wsproto-benches --example load_gen -- --addr 127.0.0.1:9001 \
//!     --conns 4 --size 1024 --depth 64 --secs 3 [--text] [--raw]
//! ```
//!
//! Prints one line: `msgs_per_sec=<float> msgs=<n> secs=<float>`.
//! Only loopback addresses are accepted: this is a local benchmark.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

struct Args {
    addr: SocketAddr,
    conns: usize,
    size: usize,
    depth: usize,
    secs: f64,
    warmup: f64,
    text: bool,
    raw: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: "127.0.0.1:9001".parse().map_err(|e| format!("{e}"))?,
        conns: 1,
        size: 64,
        depth: 64,
        secs: 3.0,
        warmup: 1.0,
        text: false,
        raw: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => args.addr = value()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--conns" => args.conns = value()?.parse().map_err(|e| format!("--conns: {e}"))?,
            "--size" => args.size = value()?.parse().map_err(|e| format!("--size: {e}"))?,
            "--depth" => args.depth = value()?.parse().map_err(|e| format!("--depth: {e}"))?,
            "--secs" => args.secs = value()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--warmup" => args.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--text" => args.text = true,
            "--raw" => args.raw = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !args.addr.ip().is_loopback() {
        return Err("only loopback addresses are allowed".into());
    }
    if args.conns == 0 || args.depth == 0 {
        return Err("--conns and --depth must be at least 1".into());
    }
    Ok(args)
}

fn header_len(payload: usize, masked: bool) -> usize {
    let ext = match payload {
        0..=125 => 0,
        126..=0xFFFF => 2,
        _ => 8,
    };
    2 + ext + if masked { 4 } else { 0 }
}

/// One masked client frame (RFC 6455 §5.2) with a per-frame key.
fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], key: [u8; 4]) {
    out.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => out.push(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
}

fn payload(size: usize, text: bool) -> Vec<u8> {
    if text {
        // ASCII, so any cut is a character boundary.
        b"hello, websocket echo! "
            .iter()
            .copied()
            .cycle()
            .take(size)
            .collect()
    } else {
        (0..size).map(|i| (i * 31 + 7) as u8).collect()
    }
}

async fn handshake(stream: &mut TcpStream, addr: SocketAddr) -> std::io::Result<Vec<u8>> {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed during the handshake"));
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            if !head.starts_with(b"HTTP/1.1 101") {
                let status = String::from_utf8_lossy(&head[..head.len().min(40)]).into_owned();
                return Err(std::io::Error::other(format!(
                    "handshake refused: {status}"
                )));
            }
            // Anything after the head is already frame data.
            return Ok(head.split_off(end + 4));
        }
    }
}

async fn connection(
    args: Arc<Args>,
    frames: Arc<Vec<u8>>,
    frame_len: usize,
    echo_len: usize,
    echoed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(args.addr).await?;
    stream.set_nodelay(true)?;
    let early = if args.raw {
        Vec::new()
    } else {
        handshake(&mut stream, args.addr).await?
    };
    let (mut rd, mut wr) = stream.into_split();
    let window = Arc::new(Semaphore::new(args.depth));

    let writer_window = window.clone();
    let writer_stop = stop.clone();
    let writer = tokio::spawn(async move {
        while !writer_stop.load(Ordering::Relaxed) {
            let Ok(permit) = writer_window.acquire().await else {
                return;
            };
            permit.forget();
            let mut batch = 1;
            // Everything the window allows goes out in one write.
            if let Ok(more) =
                writer_window.try_acquire_many(writer_window.available_permits() as u32)
            {
                batch += more.num_permits();
                more.forget();
            }
            if wr.write_all(&frames[..batch * frame_len]).await.is_err() {
                return;
            }
        }
    });

    let mut buf = vec![0u8; 256 << 10];
    let mut partial = early.len();
    let mut checked = false;
    while !stop.load(Ordering::Relaxed) {
        let n = rd.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if !checked {
            // The first echo must be one frame of the expected length.
            checked = true;
            let first = buf[0];
            if !args.raw && first & 0x0F != if args.text { 1 } else { 2 } {
                return Err(std::io::Error::other(format!(
                    "unexpected first byte {first:#x}"
                )));
            }
        }
        partial += n;
        let done = partial / echo_len;
        partial %= echo_len;
        if done > 0 {
            echoed.fetch_add(done as u64, Ordering::Relaxed);
            window.add_permits(done);
        }
    }
    writer.abort();
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(args) => Arc::new(args),
        Err(err) => {
            eprintln!("load_gen: {err}");
            std::process::exit(2);
        }
    };
    // One thread: the server under test gets the other core.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let data = payload(args.size, args.text);
        let opcode = if args.text { 1 } else { 2 };
        let mut frames = Vec::new();
        for i in 0..args.depth {
            let key = (0x9E37_79B9u32.wrapping_mul(i as u32 + 1)).to_be_bytes();
            encode_frame(&mut frames, opcode, &data, key);
        }
        let frame_len = header_len(args.size, true) + args.size;
        let echo_len = if args.raw {
            frame_len
        } else {
            header_len(args.size, false) + args.size
        };
        let frames = Arc::new(frames);
        let echoed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..args.conns {
            tasks.push(tokio::spawn(connection(
                args.clone(),
                frames.clone(),
                frame_len,
                echo_len,
                echoed.clone(),
                stop.clone(),
            )));
        }
        tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
        let start = Instant::now();
        let before = echoed.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs_f64(args.secs)).await;
        let after = echoed.load(Ordering::Relaxed);
        let secs = start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for task in &tasks {
            if task.is_finished() {
                eprintln!("load_gen: a connection ended early");
            }
        }
        for task in tasks {
            task.abort();
            if let Ok(Err(err)) = task.await {
                eprintln!("load_gen: connection error: {err}");
            }
        }
        let msgs = after - before;
        println!(
            "msgs_per_sec={:.1} msgs={msgs} secs={secs:.3}",
            msgs as f64 / secs
        );
    });
}
