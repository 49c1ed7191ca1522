//! What a connection reports: [`Event`]s, with owned, zero-copy payloads.

use bytes::Bytes;

use crate::frame::CloseFrame;
use crate::relay::Frame;
pub use crate::utf8::Utf8Bytes;

/// Whether a data message is text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Binary data (opcode 0x2).
    Binary,
}

/// Something the peer did, reported by `poll_event`.
///
/// ```
/// use wsproto::{Client, CloseCode, Config, Event, Open, Server};
///
/// let mut client = Open::<Client>::new(Config::default(), Vec::new());
/// let mut server = Open::<Server>::new(Config::default(), Vec::new());
/// client.send_text("hi")?;
/// client.send_binary(&[1, 2])?;
/// client.send_ping(b"?")?;
/// let mut closing = client.close(CloseCode::NORMAL, "bye");
/// server.receive(&closing.take_outgoing())?;
/// while let Some(event) = server.poll_event()? {
///     match event {
///         Event::Text(text) => println!("text: {}", text.as_str()),
///         Event::Binary(data) => println!("{} bytes", data.len()),
///         Event::Ping(_) | Event::Pong(_) => {} // the pong is already queued
///         Event::Close(frame) => println!("closed: {} {}", frame.code, frame.reason.as_str()),
///         // TextChunk and BinaryChunk come only in MessageMode::Streaming.
///         _ => {}
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A whole text message, reassembled and validated
    /// ([`MessageMode::Whole`](crate::MessageMode::Whole)).
    Text(Utf8Bytes),
    /// A whole binary message ([`MessageMode::Whole`](crate::MessageMode::Whole)).
    Binary(Bytes),
    /// A piece of a text message as it arrived
    /// ([`MessageMode::Streaming`](crate::MessageMode::Streaming)).
    /// Pieces always end on a character boundary.
    TextChunk {
        /// The piece.
        data: Utf8Bytes,
        /// Whether this piece ends a frame.
        frame_finished: bool,
        /// Whether this piece ends the message.
        message_finished: bool,
    },
    /// A piece of a binary message as it arrived
    /// ([`MessageMode::Streaming`](crate::MessageMode::Streaming)).
    BinaryChunk {
        /// The piece.
        data: Bytes,
        /// Whether this piece ends a frame.
        frame_finished: bool,
        /// Whether this piece ends the message.
        message_finished: bool,
    },
    /// A data frame, or the piece of one that has arrived
    /// ([`MessageMode::Frames`](crate::MessageMode::Frames)); forward it with
    /// [`Open::send_frame`](crate::Open::send_frame).
    Frame(Frame),
    /// A ping. Unless `Config::auto_pong` is off, the pong is already queued.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's close frame (1005 when it carried no code), or the
    /// transport's end without one (1006). Unless `Config::auto_close` is off,
    /// the close reply is already queued.
    Close(CloseFrame),
}

/// An event whose message payload borrows the connection's receive buffer,
/// from [`Connection::poll_event_ref`](crate::Connection::poll_event_ref):
/// no reference count and no atomic operation per message. It lives until
/// the next call on the connection, which drops its bytes.
///
/// A whole message that arrived as one frame (in
/// [`MessageMode::Whole`](crate::MessageMode::Whole)) is borrowed; every
/// other event — control frames, messages assembled from fragments or
/// decompressed, streamed pieces, frames in frame mode — comes as
/// [`EventRef::Owned`], exactly as `poll_event` would return it.
///
/// ```
/// use wsproto::{Client, Config, Event, EventRef, Open, Server};
///
/// let mut client = Open::<Client>::new(Config::default(), Vec::new());
/// let mut server = Open::<Server>::new(Config::default(), Vec::new());
/// client.send_text("hello")?;
/// client.send_ping(b"?")?;
/// server.receive(&client.take_outgoing())?;
/// let mut total = 0;
/// while let Some(event) = server.poll_event_ref()? {
///     match event {
///         EventRef::Text(text) => total += text.len(),
///         EventRef::Binary(data) => total += data.len(),
///         EventRef::Owned(Event::Ping(_)) => {} // the pong is queued
///         EventRef::Owned(other) => println!("{other:?}"),
///     }
/// }
/// assert_eq!(total, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum EventRef<'a> {
    /// A whole text message, validated.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// Any other event, owned.
    Owned(Event),
}

impl EventRef<'_> {
    /// The owned event, copying a borrowed payload.
    ///
    /// ```
    /// use wsproto::{Event, EventRef};
    ///
    /// assert_eq!(EventRef::Text("hi").into_owned(), Event::Text("hi".into()));
    /// ```
    pub fn into_owned(self) -> Event {
        match self {
            Self::Text(text) => Event::Text(Utf8Bytes::from(text.to_owned())),
            Self::Binary(data) => Event::Binary(Bytes::copy_from_slice(data)),
            Self::Owned(event) => event,
        }
    }
}
