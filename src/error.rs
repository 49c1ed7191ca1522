//! Errors, split by who is at fault: the peer ([`ProtocolError`], with the
//! close code to send), the caller ([`LocalError`]), or the opening
//! handshake ([`HandshakeError`], with the HTTP status to answer).

use std::borrow::Cow;

use http::StatusCode;

use crate::frame::{CloseCode, CloseFrame, ProtocolErrorKind};

/// The peer broke RFC 6455 or RFC 7692, or went over a configured limit.
///
/// This is Python wsproto's `RemoteProtocolError`. The connection has
/// failed: the close frame for [`ProtocolError::code`] is already queued in
/// the outgoing buffer (unless a close was sent before), so the caller only
/// has to flush the outgoing bytes and then close the transport.
///
/// ```
/// use wsproto::{CloseCode, ProtocolError, ProtocolErrorKind};
/// let err = ProtocolError::from(ProtocolErrorKind::InvalidUtf8);
/// assert_eq!(err.code, CloseCode::INVALID_FRAME_PAYLOAD_DATA);
/// assert_eq!(err.kind, ProtocolErrorKind::InvalidUtf8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("peer protocol error, close code {code}: {reason}")]
pub struct ProtocolError {
    /// What the peer did wrong, for matching.
    pub kind: ProtocolErrorKind,
    /// The close code sent to the peer: 1002, 1007, 1009 or 1010 (1011 for
    /// an extension's internal failure).
    pub code: CloseCode,
    /// What went wrong, in words; also the close frame's reason.
    pub reason: Cow<'static, str>,
}

impl ProtocolError {
    /// An extension's protocol error ([`ProtocolErrorKind::Extension`]) with
    /// the close code it chose and a reason.
    pub fn new(code: CloseCode, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: ProtocolErrorKind::Extension,
            code,
            reason: reason.into(),
        }
    }

    /// The close frame that answers this error: wsproto's `event_hint`.
    pub fn close_frame(&self) -> CloseFrame {
        CloseFrame::new(self.code, self.reason.to_string())
    }
}

impl From<ProtocolErrorKind> for ProtocolError {
    fn from(kind: ProtocolErrorKind) -> Self {
        Self {
            kind,
            code: kind.close_code(),
            reason: Cow::Borrowed(kind.description()),
        }
    }
}

/// The caller asked for something the connection's state does not allow:
/// Python wsproto's `LocalProtocolError`. Nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The peer's close frame was received, or the connection failed, so
    /// nothing more may be sent but the close reply.
    #[error("the connection is closing or closed; no more messages may be sent")]
    Closed,
    /// Ping, pong and close payloads are limited to 125 bytes (RFC 6455 §5.5).
    #[error("control frame payload is {0} bytes; the limit is 125")]
    ControlPayloadTooLarge(usize),
    /// A whole message was sent while a fragmented one is unfinished.
    #[error("a fragmented message is still in progress; finish it first")]
    MessageInProgress,
    /// A fragment's kind differs from the fragmented message in progress.
    #[error("fragment kind differs from the message in progress")]
    FragmentKindMismatch,
    /// The outgoing buffer would exceed `Config::max_outgoing_buffer`; drain it first.
    #[error("outgoing buffer is full ({queued} bytes queued, limit {limit}); drain it first")]
    OutgoingBufferFull {
        /// Bytes currently queued.
        queued: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The receive buffer holds `Config::max_receive_buffer` bytes not yet
    /// decoded: poll events before feeding more. Nothing was buffered.
    #[error(
        "receive buffer is full ({buffered} bytes not yet decoded, limit {limit}); poll events first"
    )]
    ReceiveBufferFull {
        /// Bytes buffered and not yet decoded.
        buffered: usize,
        /// The limit in force (at least the rest of a frame held whole).
        limit: usize,
    },
    /// An extension could not encode the message.
    #[error("extension {name} failed: {reason}")]
    Extension {
        /// The extension's name.
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// The operation does not fit the current handshake state (facade only).
    #[error("{0}")]
    InvalidState(Cow<'static, str>),
}

/// The opening handshake failed. Carries the HTTP status a server should
/// answer with (Python wsproto's `RemoteProtocolError` event hint during the
/// handshake); a client has nothing to answer and just closes the transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("handshake failed ({status}): {reason}")]
pub struct HandshakeError {
    /// The status to answer with: 400, 426 (with `Sec-WebSocket-Version: 13`),
    /// 431, or for a client-side failure the status that was received.
    pub status: StatusCode,
    /// What went wrong.
    pub reason: Cow<'static, str>,
}

impl HandshakeError {
    /// A handshake error with a status hint and a reason.
    pub fn new(status: StatusCode, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    pub(crate) fn bad_request(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason)
    }
}
