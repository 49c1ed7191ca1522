//! What a connection reports: [`Event`]s, with owned, zero-copy payloads.

use bytes::Bytes;

use crate::frame::CloseFrame;

/// Bytes known to be valid UTF-8: a cheaply clonable, zero-copy `str`.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes that the caller has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// Validates `bytes` as UTF-8.
    ///
    /// # Errors
    ///
    /// Returns the bytes back if they are not valid UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        match crate::utf8::validate(&bytes) {
            Ok(()) => Ok(Self(bytes)),
            Err(_) => Err(bytes),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // The only constructors validate, so this cannot fail; falling back
        // to "" instead of panicking keeps the no-panic promise regardless.
        // simdutf8's `basic` check, not `std::str::from_utf8`: this runs on
        // every access, and std's scalar check was several times the cost
        // of decoding the message (callgrind, benches/peers.rs decode_text).
        simdutf8::basic::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Whether a data message is text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Binary data (opcode 0x2).
    Binary,
}

/// Something the peer did, reported by `poll_event`.
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
    /// A ping. Unless `Config::auto_pong` is off, the pong is already queued.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's close frame (1005 when it carried no code), or the
    /// transport's end without one (1006). Unless `Config::auto_close` is off,
    /// the close reply is already queued.
    Close(CloseFrame),
}
