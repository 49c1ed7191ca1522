//! A sans-IO WebSocket implementation: RFC 6455 and RFC 7692
//! (permessage-deflate) for clients and servers, in the spirit of Python's
//! `wsproto`. It never touches a socket: feed it the bytes you read, take
//! the events it decodes, and write the bytes it queues. That makes it work
//! the same from blocking threads, tokio, or any event loop.
//!
//! # The loop
//!
//! ```
//! use wsproto::{Client, Config, Event, Open, Server};
//!
//! // Both ends of a connection whose handshake happened elsewhere.
//! let mut client = Open::<Client>::new(Config::default(), Vec::new());
//! let mut server = Open::<Server>::new(Config::default(), Vec::new());
//!
//! client.send_text("hello")?;
//! server.receive(&client.take_outgoing());
//! while let Some(event) = server.poll_event()? {
//!     if let Event::Text(text) = event {
//!         server.send_text(&text)?; // echo
//!     }
//! }
//! client.receive(&server.take_outgoing());
//! assert_eq!(client.poll_event()?, Some(Event::Text("hello".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Phases
//!
//! Roles ([`Client`], [`Server`]) and phases are types: messages can only be
//! sent on an [`Open`] connection, and [`Open::close`] consumes it and
//! returns a [`Closing`] one. See [`phase`] for the whole diagram.
#![deny(unsafe_code)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod compat;
mod config;
mod conn;
mod error;
mod event;
pub mod extensions;
pub mod frame;
pub mod handshake;
mod keys;
pub mod lifecycle;
pub mod mask;
mod outgoing;
pub mod phase;
mod role;
pub mod utf8;

pub use config::{Config, MessageMode};
pub use error::{HandshakeError, HandshakeErrorKind, LocalError, ProtocolError};
pub use event::{Event, MessageKind, Utf8Bytes};
pub use frame::{CloseCode, CloseFrame, Opcode, ProtocolErrorKind};
pub use handshake::Pending;
pub use keys::{FixedKey, MaskKeySource, OsRandomKeys, RandomnessError};
pub use phase::{Closed, Closing, Connection, Open, RemoteClosing, WebSocket};
pub use role::{Client, Role, Server};
