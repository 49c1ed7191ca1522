//! A tokio echo server: echoes every text and binary message, answers pings,
//! completes the close handshake, offers permessage-deflate, and answers bad
//! handshakes with the right HTTP status and protocol errors with the right
//! close code. Every buffered frame is processed before one write.
//!
//! ```text
//! cargo run --release --example echo_server -- [ADDR]   # default 127.0.0.1:9001
//! ```

use std::io::IoSlice;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsproto::handshake::{Accept, ServerHandshake};
use wsproto::{Config, Event, Pending, Server};

/// Read size: large enough that a burst of small frames is one read.
const READ_SIZE: usize = 64 * 1024;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("echo_server listening on ws://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(err) = serve(stream).await {
                eprintln!("connection error: {err}");
            }
        });
    }
}

/// The extensions this server negotiates: permessage-deflate.
fn supported_extensions() -> Vec<Box<dyn wsproto::extensions::Extension>> {
    use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))]
}

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut pending = Pending::<Server>::new(Config::default(), supported_extensions());
    let mut buf = vec![0u8; 16 * 1024];
    let request = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        match pending.receive(&buf[..n]) {
            Ok(ServerHandshake::Pending(p)) => pending = p,
            Ok(ServerHandshake::Request(request)) => break request,
            Err(err) => {
                stream.write_all(&err.to_response()).await?;
                return stream.shutdown().await;
            }
        }
    };
    drop(buf);
    let Ok(mut ws) = request.accept(Accept::new()) else {
        return Ok(());
    };
    loop {
        // Decode everything buffered, queueing each reply.
        loop {
            match ws.poll_event() {
                Ok(Some(Event::Text(text))) => {
                    let _ = ws.send_text_shared(text);
                }
                Ok(Some(Event::Binary(data))) => {
                    let _ = ws.send_binary_shared(data);
                }
                // Pongs and close replies are queued automatically.
                Ok(Some(_)) => {}
                Ok(None) => break,
                // The close frame with the right code is already queued.
                Err(_) => break,
            }
        }
        // One write (vectored) for all the replies.
        while ws.outgoing_len() > 0 {
            let mut slices = [IoSlice::new(&[]); 64];
            let count = ws.outgoing_slices(&mut slices);
            let written = stream.write_vectored(&slices[..count]).await?;
            if written == 0 {
                return Ok(());
            }
            ws.advance_outgoing(written);
        }
        if ws.is_closed() {
            // RFC 6455 §7.1.1: the server closes the TCP connection first.
            return stream.shutdown().await;
        }
        let recv = ws.receive_buffer().map_err(std::io::Error::other)?;
        recv.reserve(READ_SIZE);
        if stream.read_buf(recv).await? == 0 {
            ws.receive_eof();
        }
    }
}
