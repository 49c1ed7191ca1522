//! The facade's events, with Python wsproto's names and fields
//! (`wsproto.events`). Each is a plain struct; [`Event`] is the enum of
//! them all (Python's `Event` base class), and [`Message`] the generic
//! base of [`TextMessage`] and [`BytesMessage`].

use bytes::Bytes;
use http::HeaderMap;

use super::extensions::ExtensionRef;
use crate::event::Utf8Bytes;
use crate::frame::CloseCode;

/// One element of [`Request::extensions`]: an extension object when a
/// client sends the request (its offer goes into the header), the offer's
/// text when a server receives it (Python's `Sequence[Extension] |
/// Sequence[str]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestExtension {
    /// A client's extension, to offer.
    Extension(ExtensionRef),
    /// A received offer, as one element of `Sec-WebSocket-Extensions`.
    Offer(String),
}

impl From<ExtensionRef> for RequestExtension {
    fn from(ext: ExtensionRef) -> Self {
        Self::Extension(ext)
    }
}

impl From<&str> for RequestExtension {
    fn from(offer: &str) -> Self {
        Self::Offer(offer.to_owned())
    }
}

impl From<String> for RequestExtension {
    fn from(offer: String) -> Self {
        Self::Offer(offer)
    }
}

impl PartialEq<&str> for RequestExtension {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Self::Offer(offer) if offer == other)
    }
}

/// The client's upgrade request: sent by a client, received by a server.
///
/// ```
/// use wsproto::compat::events::Request;
/// let mut request = Request::new("example.com", "/chat");
/// request.subprotocols = vec!["chat".into()];
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The Host header (required).
    pub host: String,
    /// The request target, path and query (required).
    pub target: String,
    /// The extensions: offered by a client, or the offers a server received.
    pub extensions: Vec<RequestExtension>,
    /// Other headers. A server receives every header but Host,
    /// `Sec-WebSocket-Extensions` and `Sec-WebSocket-Protocol` here.
    pub extra_headers: HeaderMap,
    /// The subprotocols, in the client's order of preference.
    pub subprotocols: Vec<String>,
}

impl Request {
    /// A request for `target` on `host`, with nothing else.
    pub fn new(host: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            target: target.into(),
            extensions: Vec::new(),
            extra_headers: HeaderMap::new(),
            subprotocols: Vec::new(),
        }
    }
}

/// The server accepted: sent by a server to accept, received by a client.
///
/// ```
/// use wsproto::compat::events::AcceptConnection;
/// let accept = AcceptConnection { subprotocol: Some("chat".into()), ..Default::default() };
/// # let _ = accept;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AcceptConnection {
    /// The selected subprotocol.
    pub subprotocol: Option<String>,
    /// A server: the extensions it supports, each negotiated from the
    /// client's offers. A client: the extensions the server agreed to.
    pub extensions: Vec<ExtensionRef>,
    /// Extra headers of the 101 response (a client receives every header
    /// but Connection, Upgrade and the `Sec-WebSocket-*` ones here).
    pub extra_headers: HeaderMap,
}

/// The server rejected the request: sent by a server, received by a
/// client. With `has_body`, [`RejectData`] events follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectConnection {
    /// The HTTP status (default 400).
    pub status_code: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// Whether `RejectData` events follow. A client receives `true` for
    /// every response but a 1xx; the body then ends with an empty
    /// `RejectData` whose `body_finished` is set.
    pub has_body: bool,
}

impl Default for RejectConnection {
    fn default() -> Self {
        Self {
            status_code: 400,
            headers: HeaderMap::new(),
            has_body: false,
        }
    }
}

/// A piece of a rejection's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectData {
    /// The bytes.
    pub data: Bytes,
    /// Whether this is the last piece (default `true`).
    pub body_finished: bool,
}

impl RejectData {
    /// The whole body, or its last piece.
    pub fn new(data: impl Into<Bytes>) -> Self {
        Self {
            data: data.into(),
            body_finished: true,
        }
    }
}

/// A close frame (received or to send), or the end of the transport
/// (code 1006, no reason). wsproto does not answer it: send
/// [`response`](Self::response) back if the state is `RemoteClosing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseConnection {
    /// The close code.
    pub code: CloseCode,
    /// The reason; a received close frame always has one (maybe empty).
    pub reason: Option<String>,
}

impl CloseConnection {
    /// A close with `code` and no reason.
    pub fn new(code: impl Into<CloseCode>) -> Self {
        Self {
            code: code.into(),
            reason: None,
        }
    }

    /// A close with `code` and `reason`.
    pub fn with_reason(code: impl Into<CloseCode>, reason: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            reason: Some(reason.into()),
        }
    }

    /// The close frame that answers this one (the same code and reason).
    ///
    /// ```
    /// use wsproto::compat::events::CloseConnection;
    /// let close = CloseConnection::with_reason(1000u16, "bye");
    /// assert_eq!(close.response(), close);
    /// ```
    pub fn response(&self) -> Self {
        self.clone()
    }
}

/// A data message, or a piece of one (Python's `Message` base class):
/// [`TextMessage`] is `Message<Utf8Bytes>`, [`BytesMessage`] is
/// `Message<Bytes>`. Received pieces come one per frame (or per read of a
/// frame); reassemble them until `message_finished`, or ask for whole
/// messages with [`MessageMode::Whole`](crate::MessageMode::Whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<T> {
    /// The payload of this piece, without a copy of the received bytes.
    pub data: T,
    /// Whether this piece ends a frame.
    pub frame_finished: bool,
    /// Whether this piece ends the message (default `true`); send `false`
    /// to send a message in several frames.
    pub message_finished: bool,
}

/// A text message or a piece of one; `data` is validated UTF-8, shared with
/// the receive buffer.
pub type TextMessage = Message<Utf8Bytes>;

/// A binary message or a piece of one.
pub type BytesMessage = Message<Bytes>;

impl Message<Utf8Bytes> {
    /// A whole text message.
    ///
    /// ```
    /// use wsproto::compat::events::TextMessage;
    /// let message = TextMessage::new("hi");
    /// assert_eq!(message.data, "hi");
    /// assert!(message.message_finished);
    /// ```
    pub fn new(data: impl Into<Utf8Bytes>) -> Self {
        Self {
            data: data.into(),
            frame_finished: true,
            message_finished: true,
        }
    }
}

impl Message<Bytes> {
    /// A whole binary message.
    ///
    /// ```
    /// use wsproto::compat::events::BytesMessage;
    /// let message = BytesMessage::new(&b"\x00\x01"[..]);
    /// assert_eq!(&message.data[..], b"\x00\x01");
    /// ```
    pub fn new(data: impl Into<Bytes>) -> Self {
        Self {
            data: data.into(),
            frame_finished: true,
            message_finished: true,
        }
    }
}

impl<T> Message<T> {
    /// The same piece, marked as not ending its message: the next send
    /// continues it.
    ///
    /// ```
    /// use wsproto::compat::events::TextMessage;
    /// assert!(!TextMessage::new("part").unfinished().message_finished);
    /// ```
    #[must_use]
    pub fn unfinished(mut self) -> Self {
        self.message_finished = false;
        self
    }
}

/// A ping; wsproto does not answer it: send [`response`](Self::response).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ping {
    /// The payload (at most 125 bytes).
    pub payload: Bytes,
}

impl Ping {
    /// A ping with `payload`.
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Self {
            payload: payload.into(),
        }
    }

    /// The pong that answers this ping.
    ///
    /// ```
    /// use wsproto::compat::events::Ping;
    /// assert_eq!(Ping::new(&b"x"[..]).response().payload, &b"x"[..]);
    /// ```
    pub fn response(&self) -> Pong {
        Pong {
            payload: self.payload.clone(),
        }
    }
}

/// A pong.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pong {
    /// The payload (at most 125 bytes).
    pub payload: Bytes,
}

impl Pong {
    /// A pong with `payload`.
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Self {
            payload: payload.into(),
        }
    }
}

/// Every facade event (Python's `Event` base class).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// See [`Request`].
    Request(Request),
    /// See [`AcceptConnection`].
    AcceptConnection(AcceptConnection),
    /// See [`RejectConnection`].
    RejectConnection(RejectConnection),
    /// See [`RejectData`].
    RejectData(RejectData),
    /// See [`CloseConnection`].
    CloseConnection(CloseConnection),
    /// See [`TextMessage`].
    TextMessage(TextMessage),
    /// See [`BytesMessage`].
    BytesMessage(BytesMessage),
    /// See [`Ping`].
    Ping(Ping),
    /// See [`Pong`].
    Pong(Pong),
}

impl Event {
    /// Whether this is a data message (Python's `isinstance(event, Message)`).
    ///
    /// ```
    /// use wsproto::compat::events::{Event, Ping, TextMessage};
    /// assert!(Event::from(TextMessage::new("x")).is_message());
    /// assert!(!Event::from(Ping::default()).is_message());
    /// ```
    pub fn is_message(&self) -> bool {
        matches!(self, Self::TextMessage(_) | Self::BytesMessage(_))
    }

    /// Python's class name of the event, e.g. `"TextMessage"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Request(_) => "Request",
            Self::AcceptConnection(_) => "AcceptConnection",
            Self::RejectConnection(_) => "RejectConnection",
            Self::RejectData(_) => "RejectData",
            Self::CloseConnection(_) => "CloseConnection",
            Self::TextMessage(_) => "TextMessage",
            Self::BytesMessage(_) => "BytesMessage",
            Self::Ping(_) => "Ping",
            Self::Pong(_) => "Pong",
        }
    }
}

impl From<Box<Event>> for Event {
    /// A boxed event, such as [`RemoteProtocolError::event_hint`](super::RemoteProtocolError::event_hint).
    fn from(event: Box<Event>) -> Self {
        *event
    }
}

macro_rules! into_event {
    ($($name:ident),*) => {$(
        impl From<$name> for Event {
            fn from(event: $name) -> Self {
                Self::$name(event)
            }
        }
    )*};
}

into_event!(
    Request,
    AcceptConnection,
    RejectConnection,
    RejectData,
    CloseConnection,
    TextMessage,
    BytesMessage,
    Ping,
    Pong
);
