//! The facade's errors, with Python wsproto's names (`wsproto.utilities`):
//! [`LocalProtocolError`] for the caller's mistakes, [`RemoteProtocolError`]
//! for the peer's during the opening handshake, and [`ProtocolError`] for
//! either.

use std::borrow::Cow;

use super::events::{Event, RejectConnection};

/// The caller asked for something the state or the standard forbids:
/// sending an event in the wrong state, receiving after the close.
///
/// ```
/// use wsproto::compat::{ConnectionType, Event, WSConnection, events::Ping};
///
/// let mut client = WSConnection::new(ConnectionType::Client);
/// // A ping before the handshake:
/// let err = client.send(Event::Ping(Ping::default())).unwrap_err();
/// assert!(err.to_string().contains("cannot be sent"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LocalProtocolError {
    /// What went wrong.
    pub message: Cow<'static, str>,
}

impl LocalProtocolError {
    /// An error with `message`.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// The peer broke the opening handshake. As in Python wsproto, a server
/// answers with [`event_hint`](Self::event_hint), the rejection to send:
///
/// ```
/// use wsproto::compat::{ConnectionType, Event, ProtocolError, WSConnection};
///
/// let mut server = WSConnection::new(ConnectionType::Server);
/// let Err(ProtocolError::Remote(err)) = server.receive_data(Some(b"broken nonsense\r\n\r\n"))
/// else { panic!() };
/// assert_eq!(err.to_string(), "Bad HTTP message");
/// let reply = server.send(err.event_hint.clone().unwrap()).unwrap();
/// assert!(reply.starts_with(b"HTTP/1.1 400 "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteProtocolError {
    /// What went wrong.
    pub message: Cow<'static, str>,
    /// The event to send in answer, if any: a [`RejectConnection`] with the
    /// status that fits the fault (boxed, to keep the error small; `send`
    /// takes it as it is).
    pub event_hint: Option<Box<Event>>,
}

impl RemoteProtocolError {
    /// An error with `message` and the hint to send back.
    pub fn new(message: impl Into<Cow<'static, str>>, event_hint: Option<Event>) -> Self {
        Self {
            message: message.into(),
            event_hint: event_hint.map(Box::new),
        }
    }

    /// An error whose hint is a plain `RejectConnection` (400).
    pub(crate) fn reject(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            message,
            Some(Event::RejectConnection(RejectConnection::default())),
        )
    }
}

/// Either error: Python wsproto's `ProtocolError` base class, which
/// `receive_data` and `initiate_upgrade_connection` may raise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// See [`LocalProtocolError`].
    #[error(transparent)]
    Local(#[from] LocalProtocolError),
    /// See [`RemoteProtocolError`].
    #[error(transparent)]
    Remote(#[from] RemoteProtocolError),
}
