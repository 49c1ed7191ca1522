//! What goes through a [`WebSocketStream`](super::WebSocketStream): the
//! [`Message`] enum, on the core's zero-copy payload types.

use bytes::Bytes;

use crate::event::{Event, MessageKind, Utf8Bytes};
use crate::frame::CloseFrame;
use crate::relay::Frame;

/// A WebSocket message, as the stream yields it and as the sink takes it.
///
/// Payloads are the core's zero-copy types: text is [`Utf8Bytes`]
/// (validated UTF-8 that derefs to `str`), everything else [`Bytes`]. A
/// received message shares the read buffer; a server sends a large payload
/// without copying it.
///
/// ```
/// use wsproto::stream::Message;
/// let msg = Message::text("hello");
/// assert!(msg.is_text());
/// assert_eq!(msg.to_text(), Some("hello"));
/// assert_eq!(&msg.into_data()[..], b"hello");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A whole text message.
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// A ping. Received: the pong is already queued and goes out with the
    /// next write (`Config::auto_pong`). Sent: at most 125 bytes.
    Ping(Bytes),
    /// A pong. Received pongs are reported; sent ones are unsolicited
    /// (RFC 6455 §5.5.3 allows them as a heartbeat).
    Pong(Bytes),
    /// A close frame. Received: the peer's (the reply is already queued,
    /// unless `Config::auto_close` is off); `None` only when the peer's
    /// frame carried no code. Sent: starts the close handshake; `None`
    /// sends a close frame without a code.
    Close(Option<CloseFrame>),
    /// A piece of a message, only with
    /// [`MessageMode::Streaming`](crate::MessageMode::Streaming): received
    /// pieces come as they arrive (text pieces end on a character boundary);
    /// sent pieces go out as one frame each, the last one with `fin` set.
    Fragment {
        /// Text or binary: the kind of the whole message.
        kind: MessageKind,
        /// The piece.
        data: Bytes,
        /// Whether this piece ends the message.
        fin: bool,
    },
    /// A data frame, or the piece of one that has arrived, only with
    /// [`MessageMode::Frames`](crate::MessageMode::Frames) (see
    /// [`crate::relay`]). Received: as the core reports it. Sent: forwarded
    /// with [`Open::send_frame`](crate::Open::send_frame), so a proxy relays
    /// what one stream yields into another without reassembling messages.
    Frame(Frame),
}

impl Message {
    /// A text message.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// let msg = Message::text("hello"); // from &str, String or Utf8Bytes
    /// assert_eq!(msg.to_text(), Some("hello"));
    /// ```
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Self::Text(text.into())
    }

    /// A binary message.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// let msg = Message::binary(vec![1, 2, 3]); // from Vec<u8>, &'static [u8] or Bytes
    /// assert_eq!(msg.len(), 3);
    /// ```
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::Binary(data.into())
    }

    /// A ping.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// let ping = Message::ping(&b"heartbeat"[..]); // at most 125 bytes when sent
    /// assert!(ping.is_ping());
    /// ```
    pub fn ping(data: impl Into<Bytes>) -> Self {
        Self::Ping(data.into())
    }

    /// A pong.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// // Unsolicited: received pings are answered for you.
    /// let pong = Message::pong(&b""[..]);
    /// assert!(pong.is_pong() && pong.is_empty());
    /// ```
    pub fn pong(data: impl Into<Bytes>) -> Self {
        Self::Pong(data.into())
    }

    /// A close frame with a code and a reason (cut to 123 bytes when sent).
    ///
    /// ```
    /// use wsproto::stream::Message;
    /// use wsproto::CloseCode;
    ///
    /// let close = Message::close(CloseCode::GOING_AWAY, "server restart");
    /// assert!(close.is_close());
    /// assert_eq!(close.len(), "server restart".len());
    /// ```
    pub fn close(code: crate::CloseCode, reason: impl Into<Utf8Bytes>) -> Self {
        Self::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    }

    /// Whether this is a text message.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert!(Message::text("a").is_text());
    /// assert!(!Message::binary(&b"a"[..]).is_text());
    /// ```
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// Whether this is a binary message.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert!(Message::binary(&b"a"[..]).is_binary());
    /// ```
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// Whether this is a ping.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert!(Message::ping(&b""[..]).is_ping());
    /// ```
    pub fn is_ping(&self) -> bool {
        matches!(self, Self::Ping(_))
    }

    /// Whether this is a pong.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert!(Message::pong(&b""[..]).is_pong());
    /// ```
    pub fn is_pong(&self) -> bool {
        matches!(self, Self::Pong(_))
    }

    /// Whether this is a close frame.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert!(Message::Close(None).is_close());
    /// ```
    pub fn is_close(&self) -> bool {
        matches!(self, Self::Close(_))
    }

    /// The payload length in bytes (a close frame's reason only).
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert_eq!(Message::text("héllo").len(), 6); // bytes, not characters
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Binary(data)
            | Self::Ping(data)
            | Self::Pong(data)
            | Self::Fragment { data, .. } => data.len(),
            Self::Frame(frame) => frame.data().len(),
            Self::Close(frame) => frame.as_ref().map_or(0, |f| f.reason.len()),
        }
    }

    /// Whether the payload is empty.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert!(Message::text("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text of a text message; `None` for any other kind.
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// assert_eq!(Message::text("hi").to_text(), Some("hi"));
    /// assert_eq!(Message::binary(&b"hi"[..]).to_text(), None);
    /// ```
    pub fn to_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }

    /// The payload as bytes, without a copy (a close frame's reason).
    ///
    /// ```
    /// use wsproto::stream::Message;
    ///
    /// let data = Message::binary(vec![1, 2]).into_data();
    /// assert_eq!(&data[..], [1, 2]);
    /// ```
    pub fn into_data(self) -> Bytes {
        match self {
            Self::Text(text) => text.into_bytes(),
            Self::Binary(data)
            | Self::Ping(data)
            | Self::Pong(data)
            | Self::Fragment { data, .. } => data,
            Self::Frame(frame) => frame.into_data(),
            Self::Close(frame) => frame.map(|f| f.reason.into_bytes()).unwrap_or_default(),
        }
    }

    /// The message an event reports. The match names every event (inside
    /// this crate `#[non_exhaustive]` does not apply), so a new event cannot
    /// compile without a message to carry it.
    pub(crate) fn from_event(event: Event) -> Self {
        match event {
            Event::Text(text) => Self::Text(text),
            Event::Binary(data) => Self::Binary(data),
            Event::Ping(data) => Self::Ping(data),
            Event::Pong(data) => Self::Pong(data),
            Event::Close(frame) => Self::Close(Some(frame)),
            Event::TextChunk {
                data,
                message_finished,
                ..
            } => Self::Fragment {
                kind: MessageKind::Text,
                data: data.into_bytes(),
                fin: message_finished,
            },
            Event::BinaryChunk {
                data,
                message_finished,
                ..
            } => Self::Fragment {
                kind: MessageKind::Binary,
                data,
                fin: message_finished,
            },
            Event::Frame(frame) => Self::Frame(frame),
        }
    }
}

impl From<Utf8Bytes> for Message {
    fn from(text: Utf8Bytes) -> Self {
        Self::Text(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text.into())
    }
}

impl From<&'static str> for Message {
    fn from(text: &'static str) -> Self {
        Self::Text(text.into())
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Self::Binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Self::Binary(data.into())
    }
}
