//! Python wsproto 1.3's API on the typed core, for users porting Python
//! code or who want one runtime-checked type for both roles: [`WSConnection`]
//! with `send(event) -> bytes`, `receive_data`, `events()` and `state()`;
//! [`H11Handshake`] and [`Connection`] for the two halves; the same
//! [`events`], [`ConnectionState`]s, errors ([`LocalProtocolError`],
//! [`RemoteProtocolError`] with its `event_hint`) and [`extensions`].
//!
//! As in Python wsproto, data messages come one event per frame (or per
//! read of a frame), with `frame_finished` and `message_finished`; ask for
//! whole messages with [`MessageMode::Whole`](crate::MessageMode::Whole) in
//! [`WSConnection::with_config`]. The application answers pings and closes
//! itself (with [`events::Ping::response`] and
//! [`events::CloseConnection::response`]). Payloads are not copied:
//! `TextMessage.data` is a [`Utf8Bytes`](crate::Utf8Bytes) sharing the
//! receive buffer.
//!
//! `docs/PORTING-FROM-PYTHON.md` lists every Python name beside ours, and
//! where the two differ on purpose.
//!
//! ```
//! use wsproto::compat::{events::*, ConnectionState, ConnectionType, Event, WSConnection};
//!
//! let mut client = WSConnection::new(ConnectionType::Client);
//! let mut server = WSConnection::new(ConnectionType::Server);
//! let request = client.send(Request::new("example.com", "/chat"))?;
//! server.receive_data(Some(&request))?;
//! let Some(Event::Request(_)) = server.events().next() else { panic!() };
//! let response = server.send(AcceptConnection::default())?;
//! client.receive_data(Some(&response))?;
//! assert!(matches!(client.events().next(), Some(Event::AcceptConnection(_))));
//! assert_eq!(client.state(), ConnectionState::Open);
//! let hello = client.send(TextMessage::new("hi"))?;
//! server.receive_data(Some(&hello))?;
//! let Some(Event::TextMessage(message)) = server.events().next() else { panic!() };
//! assert_eq!(message.data, "hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use bytes::Bytes;

mod connection;
mod error;
pub mod events;
pub mod extensions;
mod handshake;

pub use connection::Connection;
pub use error::{LocalProtocolError, ProtocolError, RemoteProtocolError};
pub use events::Event;
pub use extensions::SUPPORTED_EXTENSIONS;
pub use handshake::{
    H11Handshake, client_extensions_handshake, handshake_extensions, server_extensions_handshake,
};

use crate::config::Config;
use crate::keys::MaskKeySource;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionType {
    /// The side that sends the upgrade request (Python's `CLIENT`).
    Client,
    /// The side that answers it (Python's `SERVER`).
    Server,
}

/// The connection's state, with Python wsproto's names (RFC 6455 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// The opening handshake is in progress.
    Connecting,
    /// The opening handshake is complete.
    Open,
    /// The peer sent a close frame; ours is owed.
    RemoteClosing,
    /// We sent a close frame; the peer's has not arrived.
    LocalClosing,
    /// The closing handshake is complete, or the transport ended.
    Closed,
    /// The server rejected the handshake and the body is on its way.
    Rejecting,
}

impl fmt::Display for ConnectionState {
    /// Python's `repr` of the enum member, e.g. `ConnectionState.OPEN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "ConnectionState.CONNECTING",
            Self::Open => "ConnectionState.OPEN",
            Self::RemoteClosing => "ConnectionState.REMOTE_CLOSING",
            Self::LocalClosing => "ConnectionState.LOCAL_CLOSING",
            Self::Closed => "ConnectionState.CLOSED",
            Self::Rejecting => "ConnectionState.REJECTING",
        })
    }
}

/// The local end of a WebSocket connection (Python's `WSConnection`): an
/// [`H11Handshake`], then the [`Connection`] it makes.
///
/// The call order is Python's: [`send`](Self::send) an event and write the
/// bytes it returns; [`receive_data`](Self::receive_data) what the transport
/// read (`None` at its end), then take [`events`](Self::events).
#[derive(Debug)]
pub struct WSConnection {
    kind: ConnectionType,
    handshake: H11Handshake,
    connection: Option<Connection>,
}

impl WSConnection {
    /// A client or a server, with per-frame messages as in Python.
    ///
    /// ```
    /// use wsproto::compat::{ConnectionState, ConnectionType, WSConnection};
    /// let ws = WSConnection::new(ConnectionType::Client);
    /// assert_eq!(ws.state(), ConnectionState::Connecting);
    /// ```
    pub fn new(connection_type: ConnectionType) -> Self {
        Self {
            kind: connection_type,
            handshake: H11Handshake::new(connection_type),
            connection: None,
        }
    }

    /// A client or a server with a configuration: its limits, and its
    /// [`message_mode`](Config::message_mode).
    ///
    /// ```
    /// use wsproto::{Config, MessageMode};
    /// use wsproto::compat::{ConnectionType, WSConnection};
    /// let config = Config::default().with_message_mode(MessageMode::Whole);
    /// let server = WSConnection::with_config(ConnectionType::Server, config);
    /// # let _ = server;
    /// ```
    pub fn with_config(connection_type: ConnectionType, config: Config) -> Self {
        Self {
            kind: connection_type,
            handshake: H11Handshake::with_config(connection_type, config),
            connection: None,
        }
    }

    /// Which end this is.
    pub fn connection_type(&self) -> ConnectionType {
        self.kind
    }

    /// The state: the handshake's, then the connection's.
    pub fn state(&self) -> ConnectionState {
        match &self.connection {
            Some(connection) => connection.state(),
            None => self.handshake.state(),
        }
    }

    /// A client: replaces the masking keys (tests and reproducible
    /// captures only; see [`crate::FixedKey`]).
    pub fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        match &mut self.connection {
            Some(connection) => connection.set_mask_source(source),
            None => self.handshake.set_mask_source(source),
        }
    }

    /// A server whose request was read elsewhere: see
    /// [`H11Handshake::initiate_upgrade_connection`].
    ///
    /// # Errors
    ///
    /// As [`H11Handshake::initiate_upgrade_connection`].
    pub fn initiate_upgrade_connection(
        &mut self,
        headers: &http::HeaderMap,
        path: &str,
    ) -> Result<(), ProtocolError> {
        self.handshake.initiate_upgrade_connection(headers, path)?;
        self.take_connection();
        Ok(())
    }

    /// Applies an event and returns the bytes to write to the peer.
    ///
    /// ```
    /// use wsproto::compat::{events::*, ConnectionType, WSConnection};
    /// let mut client = WSConnection::new(ConnectionType::Client);
    /// let bytes = client.send(Request::new("example.com", "/"))?;
    /// assert!(bytes.starts_with(b"GET / HTTP/1.1\r\n"));
    /// assert!(client.send(TextMessage::new("too early")).is_err());
    /// # Ok::<(), wsproto::compat::LocalProtocolError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LocalProtocolError`] when the event does not fit the role or the
    /// state.
    pub fn send(&mut self, event: impl Into<Event>) -> Result<Bytes, LocalProtocolError> {
        match &mut self.connection {
            Some(connection) => connection.send(event),
            None => {
                let bytes = self.handshake.send(event)?;
                self.take_connection();
                Ok(bytes)
            }
        }
    }

    /// Feeds bytes the transport read, or `None` when it ended.
    ///
    /// ```
    /// use wsproto::compat::{ConnectionType, Event, WSConnection};
    /// let mut server = WSConnection::new(ConnectionType::Server);
    /// server.receive_data(Some(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"))?;
    /// server.receive_data(Some(b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"))?;
    /// server.receive_data(Some(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"))?;
    /// assert!(matches!(server.events().next(), Some(Event::Request(_))));
    /// # Ok::<(), wsproto::compat::ProtocolError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`RemoteProtocolError`] when the handshake fails (a server sends
    /// its `event_hint`); [`LocalProtocolError`] when bytes arrive after
    /// the connection closed.
    pub fn receive_data(&mut self, data: Option<&[u8]>) -> Result<(), ProtocolError> {
        match &mut self.connection {
            Some(connection) => Ok(connection.receive_data(data)?),
            None => {
                let result = self.handshake.receive_data(data);
                self.take_connection();
                result
            }
        }
    }

    /// The pending events: the handshake's, then the connection's. The
    /// connection's are decoded as they are taken, as Python's generator
    /// does; use [`next_event`](Self::next_event) to send in between.
    ///
    /// ```
    /// use wsproto::compat::{events::*, ConnectionType, Event, WSConnection};
    /// let mut client = WSConnection::new(ConnectionType::Client);
    /// let mut server = WSConnection::new(ConnectionType::Server);
    /// server.receive_data(Some(&client.send(Request::new("a", "/"))?))?;
    /// let events: Vec<Event> = server.events().collect();
    /// assert!(matches!(events[..], [Event::Request(_)]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn events(&mut self) -> impl Iterator<Item = Event> + '_ {
        let handshake = self.handshake.events();
        let connection = self.connection.as_mut().map(Connection::events);
        handshake.chain(connection.into_iter().flatten())
    }

    /// The next pending event: `events().next()` without holding the
    /// borrow, so that the loop body can `send`.
    ///
    /// ```
    /// use wsproto::compat::{events::*, ConnectionType, Event, WSConnection};
    /// let mut client = WSConnection::new(ConnectionType::Client);
    /// let mut server = WSConnection::new(ConnectionType::Server);
    /// server.receive_data(Some(&client.send(Request::new("a", "/"))?))?;
    /// while let Some(event) = server.next_event() {
    ///     if let Event::Request(_) = event {
    ///         client.receive_data(Some(&server.send(AcceptConnection::default())?))?;
    ///     }
    /// }
    /// assert!(matches!(client.next_event(), Some(Event::AcceptConnection(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_event(&mut self) -> Option<Event> {
        self.events().next()
    }

    fn take_connection(&mut self) {
        if self.connection.is_none() {
            self.connection = self.handshake.take_connection();
        }
    }
}
