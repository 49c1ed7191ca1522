//! An interactive tokio client: sends each line of standard input as a text
//! message and prints each message it receives on its own line.
//!
//! ```text
//! cargo run --release --example client -- ws://127.0.0.1:9001/
//! ```
//!
//! Text messages are printed as they are; binary messages as lowercase hex
//! (so that every message stays on one line). Pings are answered
//! automatically. When standard input ends, the client closes with 1000,
//! waits up to 10 s for the server's close reply, and exits 0.
//!
//! Exits non-zero, with the reason on standard error, when the connection or
//! the handshake fails, the server breaks the protocol, the connection ends
//! without a close handshake, or the server closes with a code other than
//! 1000. Only `ws://` URLs: TLS is beyond this example.

use std::fmt::Write as _;
use std::io::{BufRead, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use wsproto::handshake::{ClientHandshake, Rejected};
use wsproto::phase::Phase;
use wsproto::{Client, CloseCode, CloseFrame, Config, Connection, Event, Pending};

/// How long to wait for the server's close reply once stdin has ended.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: client URL    (e.g. ws://127.0.0.1:9001/)");
        return ExitCode::from(2);
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("client: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), Error> {
    // One parse: the request to send and where to send it.
    let (mut pending, request) = Pending::<Client>::from_url(url, Config::default(), Vec::new())?;
    let target = pending.target().ok_or("the URL has no host")?.clone();
    if target.tls {
        return Err("wss:// needs TLS, which this example does not do".into());
    }
    let mut stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
    stream.set_nodelay(true)?;

    stream.write_all(&request).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut ws = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err("the server closed the connection during the handshake".into());
        }
        match pending.receive(&buf[..n])? {
            ClientHandshake::Pending(p) => pending = p,
            ClientHandshake::Open(ws, _response) => break ws,
            ClientHandshake::Rejected(rejected) => {
                return Err(rejection(rejected, &mut stream, &mut buf).await);
            }
        }
    };

    let (mut reader, mut writer) = stream.into_split();
    let mut lines = stdin_lines();
    // Messages flow both ways until stdin ends or the server closes.
    loop {
        // Bytes that arrived with the 101 are decoded before the first read.
        let printed = print_events(&mut ws);
        // Automatic pongs and close replies, and after a protocol error the
        // close frame with its code, go out before anything else happens.
        flush(&mut writer, &mut ws).await?;
        if let Some(frame) = printed? {
            return closed_by_server(&frame, &mut reader).await;
        }
        tokio::select! {
            line = lines.recv() => match line {
                Some(line) => ws.send_text(&line?)?,
                None => break,
            },
            // `read` is cancel-safe: if stdin wins, no bytes are lost.
            read = reader.read(&mut buf) => match read? {
                0 => ws.receive_eof(),
                n => ws.receive(&buf[..n])?,
            },
        }
    }

    // Stdin ended: start the close handshake. Messages already on their way
    // are still printed.
    let mut closing = ws.close(CloseCode::NORMAL, "");
    flush(&mut writer, &mut closing).await?;
    let reply = tokio::time::timeout(CLOSE_TIMEOUT, async {
        loop {
            let printed = print_events(&mut closing);
            flush(&mut writer, &mut closing).await?;
            if let Some(frame) = printed? {
                return Ok::<_, Error>(frame);
            }
            match reader.read(&mut buf).await? {
                0 => closing.receive_eof(),
                n => closing.receive(&buf[..n])?,
            }
        }
    })
    .await
    .map_err(|_| "timed out waiting for the server's close reply")??;
    if reply.code == CloseCode::ABNORMAL_CLOSURE {
        return Err("the connection ended before the server's close reply".into());
    }
    // RFC 6455 §7.1.1: the client waits for the server to close TCP first,
    // but not forever.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, read_to_eof(&mut reader)).await;
    Ok(())
}

/// Lines of standard input, read on their own thread: tokio's stdin would
/// keep the runtime from shutting down while a read is blocked.
fn stdin_lines() -> mpsc::Receiver<std::io::Result<String>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let failed = line.is_err();
            if tx.blocking_send(line).is_err() || failed {
                return;
            }
        }
    });
    rx
}

/// Prints every decoded message; returns the server's close frame (1006 if
/// the connection ended without one) once it came.
fn print_events<P: Phase>(ws: &mut Connection<Client, P>) -> Result<Option<CloseFrame>, Error> {
    let mut stdout = std::io::stdout().lock();
    let mut close = None;
    while let Some(event) = ws.poll_event()? {
        match event {
            Event::Text(text) => writeln!(stdout, "{text}")?,
            Event::Binary(data) => writeln!(stdout, "{}", hex(&data))?,
            Event::Close(frame) => close = Some(frame),
            // Pings are answered automatically; pongs need nothing.
            _ => {}
        }
    }
    stdout.flush()?;
    Ok(close)
}

fn hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 2);
    for byte in data {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

async fn flush<P: Phase>(
    writer: &mut (impl AsyncWrite + Unpin),
    ws: &mut Connection<Client, P>,
) -> std::io::Result<()> {
    while let Some(piece) = ws.poll_transmit() {
        writer.write_all(&piece).await?;
    }
    Ok(())
}

/// The server started the close handshake (our reply is already sent).
async fn closed_by_server(
    frame: &CloseFrame,
    reader: &mut (impl AsyncRead + Unpin),
) -> Result<(), Error> {
    if frame.code == CloseCode::ABNORMAL_CLOSURE {
        return Err("the connection ended without a close handshake".into());
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, read_to_eof(reader)).await;
    if frame.code == CloseCode::NORMAL {
        eprintln!("client: the server closed the connection: {}", frame.reason);
        Ok(())
    } else {
        Err(format!(
            "the server closed the connection with {}: {}",
            frame.code.0, frame.reason
        )
        .into())
    }
}

async fn read_to_eof(reader: &mut (impl AsyncRead + Unpin)) {
    let mut sink = [0u8; 4096];
    while let Ok(1..) = reader.read(&mut sink).await {}
}

/// The error for a non-101 answer, with the start of its body.
async fn rejection(mut rejected: Rejected, stream: &mut TcpStream, buf: &mut [u8]) -> Error {
    const SHOWN: usize = 1024;
    let mut body = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            while let Some(piece) = rejected.poll_body() {
                body.extend_from_slice(&piece.data);
                if piece.body_finished {
                    return;
                }
            }
            if !rejected.has_body() || body.len() >= SHOWN {
                return;
            }
            match stream.read(buf).await {
                Ok(0) | Err(_) => rejected.receive_eof(),
                Ok(n) => {
                    if rejected.receive(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    })
    .await;
    body.truncate(SHOWN);
    let body = String::from_utf8_lossy(&body);
    format!(
        "the server rejected the handshake: {}{}{}",
        rejected.response().status(),
        if body.trim().is_empty() { "" } else { ": " },
        body.trim()
    )
    .into()
}
