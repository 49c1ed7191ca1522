//! The echo server's serve loop, written once for `examples/echo_server.rs`
//! and the tests that need a real server (`tests/hostile.rs`,
//! `tests/interop.rs`): accept, do the
//! server handshake, echo every text and binary message, and close. It runs
//! on the async adapter (`wsproto::stream`), written the way the adapter's
//! docs recommend: replies are `feed`ed, not sent, so that `next()` decodes
//! every buffered frame and then writes all the replies in one vectored
//! write. Pongs, the close reply and the close frame after a protocol error
//! are queued and written by the stream itself; a bad handshake is answered
//! with the HTTP status its error names.
//!
//! Examples and tests share no crate but wsproto, so each includes this file
//! as a module: `#[path = "support/echo.rs"] mod echo;` from `examples/`,
//! `#[path = "../examples/support/echo.rs"] mod echo;` from `tests/`.
// Each includer uses a different part.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::handshake::Accept;
use wsproto::stream::{self, Message, StreamConfig, WebSocketStream};
use wsproto::{Config, Server};

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
            let (tcp, _) = listener.accept().await?;
            let echo = Arc::clone(&echo);
            tokio::spawn(async move {
                if let Err(err) = echo.serve(tcp).await {
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

    /// One connection over TCP: the server handshake, then the echo. A bad
    /// handshake has been answered (and the transport shut down) when
    /// `accept_with` returns its error.
    pub async fn serve(&self, mut tcp: TcpStream) -> io::Result<()> {
        tcp.set_nodelay(true)?;
        let mut accepted = stream::accept_with(
            &mut tcp,
            self.config.clone(),
            self.extensions(),
            StreamConfig::default(),
            |_| Ok(Accept::new()),
        )
        .await;
        // Bound by reference: a stream moved out of `accepted` would take a
        // second slot in this future, and so in every connection's task.
        match &mut accepted {
            Ok(ws) => self.echo_stream(ws).await?,
            // The client left before finishing its request.
            Err(stream::Error::Io(err)) if err.kind() == io::ErrorKind::UnexpectedEof => {}
            Err(stream::Error::Io(err)) => return Err(io::Error::new(err.kind(), err.to_string())),
            Err(_) => {}
        }
        drop(accepted);
        self.linger(&mut tcp).await;
        Ok(())
    }

    /// The echo loop. The stream ends once the close handshake is over (or
    /// the connection failed, after the close frame with the error's code)
    /// and the transport is shut down: RFC 6455 §7.1.1, the server closes
    /// TCP first.
    ///
    /// It borrows the stream rather than take it: an `async fn` keeps its
    /// arguments in its future, so a stream moved in would be held twice
    /// by the task, once by the caller and once here.
    async fn echo_stream<S>(&self, ws: &mut WebSocketStream<S, Server>) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        while let Some(message) = ws.next().await {
            match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                    // `feed`, not `send`: the next `next()` writes every
                    // reply queued by then in one vectored write.
                    if ws.feed(message).await.is_err() {
                        // The connection ended; `next()` reports why.
                        continue;
                    }
                }
                // Pongs and the close reply are queued and written for us.
                Ok(_) => {}
                Err(stream::Error::Io(err)) => return Err(err),
                // A protocol error: its close frame went out, the stream ends.
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Discards what the peer still sends for [`Self::linger`], if set.
    async fn linger<S: AsyncRead + Unpin>(&self, mut io: S) {
        let Some(linger) = self.linger else {
            return;
        };
        // On the heap: an array here would sit in every connection's task,
        // lingering or not, for its whole life.
        let mut sink = vec![0u8; 4096];
        let _ = tokio::time::timeout(linger, async {
            while let Ok(n) = io.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }
}
