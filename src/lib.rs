//! A sans-IO WebSocket implementation: RFC 6455 and RFC 7692
//! (permessage-deflate) for clients and servers, in the spirit of Python's
//! `wsproto`. It never touches a socket: feed it the bytes you read, take
//! the events it decodes, and write the bytes it queues. That makes it work
//! the same from blocking threads, tokio, or any event loop.
//!
//! # Async in a few lines
//!
//! With the `axum` feature, a server: [`axum::WebSocketUpgrade`] checks the
//! request, answers 101 and hands you a [`stream::WebSocketStream`], which
//! answers pings and completes the close handshake on its own.
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # async fn server() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{Router, routing::get};
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto::axum::WebSocketUpgrade;
//!
//! let echo = |ws: WebSocketUpgrade| async {
//!     ws.on_upgrade(|mut ws| async move {
//!         while let Some(Ok(message)) = ws.next().await {
//!             if message.is_text() || message.is_binary() {
//!                 let _ = ws.send(message).await;
//!             }
//!         }
//!     })
//! };
//! let app = Router::new().route("/ws", get(echo));
//! axum::serve(tokio::net::TcpListener::bind("127.0.0.1:9003").await?, app).await?;
//! # Ok(()) }
//! ```
//!
//! With the `tokio` feature, a client ([`connect()`]; `wss://` with the
//! `rustls` feature):
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn client() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto::stream::Message;
//!
//! let (mut ws, _response) = wsproto::connect("ws://127.0.0.1:9003/ws").await?;
//! ws.send(Message::text("hello")).await?;
//! println!("{:?}", ws.next().await);
//! # Ok(()) }
//! ```
//!
//! | feature | what it adds |
//! |---|---|
//! | `tokio` | [`stream`]: `WebSocketStream` over any tokio transport, [`accept`](stream::accept), [`client_async`](stream::client_async); [`connect()`](mod@connect) over TCP |
//! | `rustls` | `wss://` for [`connect()`], with rustls (ring) and Mozilla's roots, or your own `rustls::ClientConfig` ([`connect::Connector`]) |
//! | `hyper` | [`hyper`](mod@hyper): `upgrade(request)` for a hyper 1 service |
//! | `axum` | [`axum`](mod@axum): the `WebSocketUpgrade` extractor for axum 0.8 |
//!
//! Without features the crate depends on no async runtime: the sans-IO core
//! below is all there is.
//!
//! # Phases
//!
//! Roles ([`Client`], [`Server`]) and phases are types. What the caller
//! decides changes the type at once; what the peer decides shows when the
//! caller asks for [`next_phase`](Connection::next_phase), as a variant of
//! [`WebSocket`] (see [`phase`] for the details):
//!
//! ```text
//!  Pending<R> ══accept / receive══▶ Open<R> ═══close()═══▶ Closing<R>
//!                                    │    │                   │
//!                    peer's close ───┘    │                   │ peer's close, EOF,
//!                    (auto_close off)     │                   │ protocol error
//!                          ▼              │                   ▼
//!                  RemoteClosing<R> ══close()══════════▶ Closed<R>
//!                                         │                   ▲
//!                                         └── peer's close (auto_close on),
//!                                             EOF, protocol error
//! ```
//!
//! Only [`Open`] can send; every other phase lacks the methods, so a send
//! after the close does not compile. The runtime state behind the types is
//! one [`lifecycle::State`], whose transition table is in [`lifecycle`].
//!
//! # The sans-IO loop
//!
//! For each connection: feed what the transport read with `receive` (or
//! `receive_eof`), poll events until `Ok(None)`, write what is queued, and
//! close the transport once the connection is closed. On a protocol error,
//! stop polling: the close frame with the right code is already queued, so
//! write it out before closing the transport.
//!
//! ```
//! use wsproto::{Client, Config, Event, Open, Server, WebSocket};
//!
//! // Both ends of a connection whose handshake happened elsewhere.
//! let mut client = Open::<Client>::new(Config::default(), Vec::new());
//! let mut server = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
//!
//! client.send_text("hello")?;
//! client.send_binary(b"\x00\x01")?;
//! server.receive(&client.take_outgoing())?; // the bytes the transport read
//! loop {
//!     match server.poll_event() {
//!         Ok(Some(Event::Text(text))) => {
//!             if let Some(open) = server.as_open() {
//!                 open.send_text(&text)?; // echo
//!             }
//!         }
//!         Ok(Some(_)) => {} // pongs and close replies are queued for us
//!         Ok(None) => break,
//!         Err(_) => break,  // the close frame is queued: stop polling
//!     }
//! }
//! let to_write = server.take_outgoing(); // write these, then, if
//! if server.is_closed() { /* close the transport */ }
//! client.receive(&to_write)?;
//! assert_eq!(client.poll_event()?, Some(Event::Text("hello".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod compat;
mod config;
mod conn;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod connect;
mod error;
mod event;
pub mod extensions;
pub mod frame;
pub mod handshake;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod hyper;
mod keys;
pub mod lifecycle;
pub mod mask;
mod outgoing;
pub mod phase;
mod role;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod stream;
pub mod utf8;

pub use config::{Config, MessageMode};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use connect::{connect, connect_with};
pub use error::{HandshakeError, HandshakeErrorKind, LocalError, ProtocolError};
pub use event::{Event, MessageKind, Utf8Bytes};
pub use frame::{CloseCode, CloseFrame, Opcode, ProtocolErrorKind};
pub use handshake::Pending;
pub use keys::{FixedKey, MaskKeySource, OsRandomKeys, RandomnessError};
pub use phase::{Closed, Closing, Connection, Open, RemoteClosing, WebSocket};
pub use role::{Client, Role, Server};

// docs/PORTING-FROM-PYTHON.md: its code blocks are compiled (and, unless
// marked `no_run`, run) as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/PORTING-FROM-PYTHON.md")]
pub struct PortingFromPython;
