//! A sans-IO WebSocket implementation: RFC 6455 and RFC 7692
//! (permessage-deflate) for clients and servers, in the spirit of Python's
//! `wsproto`. It never touches a socket: feed it the bytes you read, take
//! the events it decodes, and write the bytes it queues. That makes it work
//! the same from blocking threads, tokio, or any event loop.
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
//! What each phase may send, and how it leaves:
//!
//! | phase | sends | receives | leaves by |
//! |---|---|---|---|
//! | [`Pending`] (handshake) | the request (client) or the 101/rejection (server) | the response (client) or the request (server) | [`handshake::ClientHandshake::Open`], [`IncomingRequest::accept`](handshake::IncomingRequest::accept) |
//! | [`Open`] | [`send_text`](Open::send_text), [`send_binary`](Open::send_binary), [`send_fragment`](Open::send_fragment), [`send_ping`](Open::send_ping), [`send_pong`](Open::send_pong), [`close`](Open::close) (a server also [`send_binary_shared`](Open::send_binary_shared), [`send_text_shared`](Open::send_text_shared)); automatic pongs and close replies | everything | `close()` → [`Closing`]; the peer → [`RemoteClosing`] or [`Closed`] |
//! | [`Closing`] | nothing (our close frame is queued) | data, pings, the peer's close | [`into_closed`](Closing::into_closed) / `next_phase` once the peer answers → [`Closed`] |
//! | [`RemoteClosing`] | only [`close`](RemoteClosing::close), the reply | nothing more | `close()` → [`Closed`] |
//! | [`Closed`] | nothing | nothing | write what is queued, close the transport |
//!
//! Only [`Open`] can send; every other phase lacks the methods, so a send
//! after the close does not compile. The runtime state behind the types is
//! one [`lifecycle::State`], whose transition table is in [`lifecycle`].
//!
//! # The sans-IO loop
//!
//! ```text
//!   transport ──read──▶ receive(bytes) ──▶ poll_event() ──▶ Event ──▶ your code
//!       ▲                                   (until Ok(None))              │
//!       └──write── take_outgoing() / outgoing_slices() ◀── send_*() ◀─────┘
//! ```
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
//!
//! # The handshake, in memory
//!
//! The opening handshake is sans-IO too: a client's [`Pending`] gives the
//! request bytes and takes the response; a server's takes the request and
//! answers with [`accept`](handshake::IncomingRequest::accept) or
//! [`reject`](handshake::IncomingRequest::reject). Here both run in one
//! process, with permessage-deflate negotiated:
//!
//! ```
//! use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
//! use wsproto::handshake::{Accept, ClientHandshake, ServerHandshake};
//! use wsproto::{Client, Config, Event, Pending, Server};
//!
//! let deflate = || Box::new(PerMessageDeflate::new(DeflateConfig::default()));
//! let (client, request) =
//!     Pending::<Client>::from_url("ws://example.com/chat", Config::default(), vec![deflate()])?;
//!
//! let server = Pending::<Server>::new(Config::default(), vec![deflate()]);
//! let ServerHandshake::Request(incoming) = server.receive(&request)? else {
//!     unreachable!("the request is complete")
//! };
//! assert_eq!(incoming.request().uri().path(), "/chat");
//! let mut server = incoming.accept(Accept::new())?; // queues the 101
//!
//! let ClientHandshake::Open(mut client, response) = client.receive(&server.take_outgoing())? else {
//!     unreachable!("the server accepted")
//! };
//! assert_eq!(response.status(), 101);
//! assert_eq!(client.extensions()[0].name(), "permessage-deflate");
//!
//! client.send_text("hello")?;
//! server.receive(&client.take_outgoing())?;
//! assert_eq!(server.poll_event()?, Some(Event::Text("hello".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors
//!
//! Errors say who is at fault, and what to send:
//!
//! - [`ProtocolError`]: the peer broke RFC 6455 or RFC 7692, or a limit. It
//!   carries the close code (1002, 1007, 1009, 1010) and a
//!   [`ProtocolErrorKind`]; the close frame is already queued, so write the
//!   outgoing bytes and close the transport.
//! - [`LocalError`]: the caller asked for something the connection does not
//!   allow (a ping over 125 bytes, a full buffer…). Nothing was queued; the
//!   connection goes on.
//! - [`HandshakeError`]: the opening handshake failed. On a server its
//!   status is the answer to send ([`HandshakeError::to_response`]); on a
//!   client, the status received.
//!
//! # Async in a few lines
//!
//! With the `axum` feature, a server: [`axum::WebSocketUpgrade`][axum-upgrade] checks the
//! request, answers 101 and hands you a [`stream::WebSocketStream`][stream-ws], which
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
//! With the `tokio` feature, a client ([`connect()`][connect-fn]; `wss://` with the
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
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `tokio` | [`stream`][stream-mod]: `WebSocketStream` over any tokio transport, [`accept`][stream-accept], [`client_async`][stream-client]; [`connect()`][connect-fn] over TCP |
//! | `rustls` | `wss://` for [`connect()`][connect-fn], with rustls (ring) and Mozilla's roots, or your own `rustls::ClientConfig` ([`connect::Connector`][connector]) |
//! | `hyper` | [`hyper`][hyper-mod]: `upgrade(request)` for a hyper 1 service |
//! | `axum` | [`axum`][axum-mod]: the `WebSocketUpgrade` extractor for axum 0.8 |
//!
//! Without features the crate depends on no async runtime: the sans-IO core
//! is all there is.
//!
//! # Guides
//!
//! - `docs/MIGRATING-FROM-TUNGSTENITE.md`: tungstenite and
//!   tokio-tungstenite names beside ours, and an axum handler ported.
//! - `docs/PORTING-FROM-PYTHON.md`: Python wsproto's names beside ours
//!   ([`compat`] is the Python-shaped facade).
//!
//! # Proxies
//!
//! [`MessageMode::Frames`] reports each data frame as it arrives, without
//! reassembling messages, and [`Open::send_frame`] forwards it on another
//! connection; see [`relay`] and `examples/proxy.rs`.
//!
// The features' items are linked when they are built (docs.rs builds them
// all); without them the links point at the features table, so that plain
// `cargo doc` has no broken links either.
#![cfg_attr(feature = "axum", doc = "[axum-upgrade]: axum::WebSocketUpgrade")]
#![cfg_attr(not(feature = "axum"), doc = "[axum-upgrade]: #features")]
#![cfg_attr(feature = "axum", doc = "[axum-mod]: mod@axum")]
#![cfg_attr(not(feature = "axum"), doc = "[axum-mod]: #features")]
#![cfg_attr(feature = "tokio", doc = "[stream-ws]: stream::WebSocketStream")]
#![cfg_attr(not(feature = "tokio"), doc = "[stream-ws]: #features")]
#![cfg_attr(feature = "tokio", doc = "[stream-mod]: mod@stream")]
#![cfg_attr(not(feature = "tokio"), doc = "[stream-mod]: #features")]
#![cfg_attr(feature = "tokio", doc = "[stream-accept]: stream::accept")]
#![cfg_attr(not(feature = "tokio"), doc = "[stream-accept]: #features")]
#![cfg_attr(feature = "tokio", doc = "[stream-client]: stream::client_async")]
#![cfg_attr(not(feature = "tokio"), doc = "[stream-client]: #features")]
#![cfg_attr(feature = "tokio", doc = "[connect-fn]: connect()")]
#![cfg_attr(not(feature = "tokio"), doc = "[connect-fn]: #features")]
#![cfg_attr(feature = "tokio", doc = "[connector]: connect::Connector")]
#![cfg_attr(not(feature = "tokio"), doc = "[connector]: #features")]
#![cfg_attr(feature = "hyper", doc = "[hyper-mod]: mod@hyper")]
#![cfg_attr(not(feature = "hyper"), doc = "[hyper-mod]: #features")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

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
pub mod relay;
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
pub use event::{Event, EventRef, MessageKind, Utf8Bytes};
pub use frame::{CloseCode, CloseFrame, Opcode, ProtocolErrorKind};
pub use handshake::Pending;
pub use keys::{FixedKey, MaskKeySource, OsRandomKeys, RandomnessError};
pub use phase::{Closed, Closing, Connection, Open, RemoteClosing, WebSocket};
pub use role::{Client, Role, Server};

/// The guide `docs/MIGRATING-FROM-TUNGSTENITE.md`, so that its code blocks
/// are compiled and run as doc-tests (they use the async adapter and axum).
#[cfg(all(doctest, feature = "axum"))]
#[doc = include_str!("../docs/MIGRATING-FROM-TUNGSTENITE.md")]
pub struct MigratingFromTungstenite;

/// The guide `docs/PORTING-FROM-PYTHON.md`, so that its code blocks are
/// compiled (and, unless marked `no_run`, run) as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/PORTING-FROM-PYTHON.md")]
pub struct PortingFromPython;
