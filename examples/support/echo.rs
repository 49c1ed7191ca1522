//! The echo server's serve loop, written once for `examples/echo_server.rs`
//! and the tests that need a real server
//! (`tests/hostile.rs`, `tests/interop.rs`, `tests/hyper.rs`): accept, do the
//! server handshake, echo every text and binary message, and close. Pongs
//! and the close reply are queued by the connection itself, as is the close
//! frame with the right code after a protocol error; a bad handshake is
//! answered with the HTTP status its error names. Every buffered frame is
//! processed before one (vectored) write.
//!
//! Examples and tests share no crate but wsproto, so each includes this file
//! as a module: `#[path = "support/echo.rs"] mod echo;` from `examples/`,
//! `#[path = "../examples/support/echo.rs"] mod echo;` from `tests/`.
// Each includer uses a different part.
#![allow(dead_code)]

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::handshake::{Accept, ServerHandshake};
use wsproto::{Config, Event, Open, Pending, Server};

/// Read size once open: large enough that a burst of small frames is one
/// read.
const READ_SIZE: usize = 64 * 1024;

/// Read size during the handshake and while lingering.
const SMALL_READ_SIZE: usize = 16 * 1024;

/// How many slices of queued output go into one vectored write.
const WRITE_SLICES: usize = 64;

/// How an echo server serves each connection. `Echo::default()` is the
/// plain echo server: default limits, no extensions, no lingering.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    /// The limits and modes of every connection.
    pub config: Config,
    /// Whether to negotiate permessage-deflate (default settings).
    pub deflate: bool,
    /// After answering a bad handshake or completing the close handshake,
    /// stop writing and discard what the peer still sends for up to this
    /// long before closing. Closing with unread input makes the kernel send
    /// RST, which can destroy the answer before the peer reads it; a peer
    /// that keeps writing (a flood) needs this to see the close frame.
    pub linger: Option<Duration>,
}

impl Echo {
    /// The extensions to offer in the handshake.
    pub fn extensions(&self) -> Vec<Box<dyn Extension>> {
        if self.deflate {
            vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))]
        } else {
            Vec::new()
        }
    }

    /// Serves every connection `listener` accepts, each on its own task;
    /// returns only when accepting fails.
    pub async fn run(self, listener: TcpListener) -> io::Result<()> {
        let echo = Arc::new(self);
        loop {
            let (stream, _) = listener.accept().await?;
            let echo = Arc::clone(&echo);
            tokio::spawn(async move {
                if let Err(err) = echo.serve(stream).await {
                    eprintln!("connection error: {err}");
                }
            });
        }
    }

    /// Binds `addr` (port 0 for a free one) and runs the server on a task of
    /// the current runtime, so that it ends with the runtime; returns the
    /// bound address.
    pub async fn spawn(self, addr: &str) -> io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        tokio::spawn(self.run(listener));
        Ok(bound)
    }

    /// One connection over TCP: the server handshake, then [`Self::echo`].
    pub async fn serve(&self, mut stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut pending = Pending::<Server>::new(self.config.clone(), self.extensions());
        let mut buf = vec![0u8; SMALL_READ_SIZE];
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
                    return self.close(stream).await;
                }
            }
        };
        // The open connection reads into its own buffer.
        drop(buf);
        let ws = request.accept(Accept::new()).map_err(io::Error::other)?;
        self.echo(stream, ws).await
    }

    /// Echoes every message until the close handshake is over, then closes
    /// the transport: RFC 6455 §7.1.1, the server closes TCP first. Generic
    /// over the transport so that it also runs on a connection hyper
    /// upgraded.
    pub async fn echo<S>(&self, mut io: S, mut ws: Open<Server>) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
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
                    // Pongs and the close reply are queued automatically.
                    Ok(Some(_)) => {}
                    // After a protocol error its close frame is already
                    // queued.
                    Ok(None) | Err(_) => break,
                }
            }
            // One write (vectored) for all the replies.
            while ws.outgoing_len() > 0 {
                let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
                let count = ws.outgoing_slices(&mut slices);
                let written = io.write_vectored(&slices[..count]).await?;
                if written == 0 {
                    return Ok(());
                }
                ws.advance_outgoing(written);
            }
            if ws.is_closed() {
                return self.close(io).await;
            }
            let recv = ws.receive_buffer().map_err(io::Error::other)?;
            recv.reserve(READ_SIZE);
            if io.read_buf(recv).await? == 0 {
                ws.receive_eof();
            }
        }
    }

    /// Shuts the transport down for writing, lingering first if asked.
    async fn close<S>(&self, mut io: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        io.shutdown().await?;
        if let Some(linger) = self.linger {
            let mut sink = [0u8; SMALL_READ_SIZE];
            let _ = tokio::time::timeout(linger, async {
                while let Ok(n) = io.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
        }
        Ok(())
    }
}
