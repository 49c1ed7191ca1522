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
    ///
    /// ```
    /// use wsproto::{CloseCode, ProtocolError, ProtocolErrorKind};
    ///
    /// // In an `Extension::decode`: a payload the extension cannot make sense of.
    /// let err = ProtocolError::new(CloseCode::INVALID_FRAME_PAYLOAD_DATA, "bad frame for x-my-ext");
    /// assert_eq!(err.kind, ProtocolErrorKind::Extension);
    /// ```
    pub fn new(code: CloseCode, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: ProtocolErrorKind::Extension,
            code,
            reason: reason.into(),
        }
    }

    /// The close frame that answers this error: wsproto's `event_hint`.
    ///
    /// ```
    /// use wsproto::{CloseCode, ProtocolError, ProtocolErrorKind};
    ///
    /// let frame = ProtocolError::from(ProtocolErrorKind::InvalidUtf8).close_frame();
    /// assert_eq!(frame.code, CloseCode::INVALID_FRAME_PAYLOAD_DATA);
    /// assert_eq!(frame.reason.as_str(), "text is not valid UTF-8");
    /// ```
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
    /// [`Open::send_frame`](crate::Open::send_frame) cannot forward this
    /// frame here: it continues a message that was not forwarded on this
    /// connection, or it is compressed and this connection's peer did not
    /// negotiate parameters it can decompress it under (see
    /// [`relay`](crate::relay)).
    #[error("cannot forward the frame: {0}")]
    CannotRelay(Cow<'static, str>),
    /// The operation does not fit the current handshake state (the
    /// [`compat`](crate::compat) facade only).
    #[error("{0}")]
    InvalidState(Cow<'static, str>),
    /// The subprotocol passed to
    /// [`IncomingRequest::accept`](crate::handshake::IncomingRequest::accept)
    /// or [`upgrade`](crate::handshake::upgrade) is not one the client
    /// offered (RFC 6455 §4.2.2: "The value chosen MUST be derived from the
    /// client's handshake").
    #[error("subprotocol {0:?} was not offered by the client")]
    SubprotocolNotOffered(String),
    /// A value given to `accept` cannot be written as an HTTP header value
    /// (for example a subprotocol with a control character).
    #[error("invalid header value in the accept: {0}")]
    InvalidAcceptHeader(Cow<'static, str>),
}

/// The opening handshake failed.
///
/// [`kind`](Self::kind) says which side found the fault, and with it what
/// [`status`](Self::status) means: on a server, the HTTP status to answer
/// with (Python wsproto's `RemoteProtocolError` event hint during the
/// handshake); on a client, the status the server sent, if any. A client
/// has nothing to answer and just closes the transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("handshake failed ({status}): {reason}")]
#[non_exhaustive]
pub struct HandshakeError {
    /// By [`kind`](Self::kind):
    /// - [`BadRequest`](HandshakeErrorKind::BadRequest) (server side): the
    ///   status to answer with: 400, 426 (with `Sec-WebSocket-Version: 13`)
    ///   or 431.
    /// - [`BadResponse`](HandshakeErrorKind::BadResponse) (client side): the
    ///   status the server sent. A 101 that fails the checks of RFC 6455
    ///   §4.1 (wrong `Sec-WebSocket-Accept`, an extension or subprotocol not
    ///   offered…) is reported with 101: the status is what was received,
    ///   and the kind says the client refused it.
    /// - [`MalformedResponse`](HandshakeErrorKind::MalformedResponse) (client
    ///   side): no status could be read; 502 Bad Gateway, as a proxy would
    ///   report an unreadable answer.
    /// - [`Local`](HandshakeErrorKind::Local): 500; nothing came from the peer.
    pub status: StatusCode,
    /// What went wrong.
    pub reason: Cow<'static, str>,
    /// Who found the fault, and so what `status` means.
    pub kind: HandshakeErrorKind,
}

/// Which side found a [`HandshakeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeErrorKind {
    /// A server refused the request; the status is the answer to send.
    BadRequest,
    /// A client refused the response; the status is the one it carried.
    BadResponse,
    /// A client could not read the response as HTTP/1.1; the status is 502.
    MalformedResponse,
    /// The handshake could not start here: the request or URL given to the
    /// client was invalid, or the OS random generator failed while making
    /// the `Sec-WebSocket-Key`. The status is 500.
    Local,
}

impl HandshakeError {
    /// A server-side handshake error ([`HandshakeErrorKind::BadRequest`])
    /// with the status to answer and a reason.
    ///
    /// ```
    /// let err = wsproto::HandshakeError::new(http::StatusCode::BAD_REQUEST, "no Host");
    /// assert_eq!(err.to_http_response().status(), 400);
    /// ```
    pub fn new(status: StatusCode, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            reason: reason.into(),
            kind: HandshakeErrorKind::BadRequest,
        }
    }

    pub(crate) fn bad_request(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason)
    }

    /// A client refused a response that carried `status`.
    pub(crate) fn bad_response(status: StatusCode, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            reason: reason.into(),
            kind: HandshakeErrorKind::BadResponse,
        }
    }

    /// A client could not read the response at all.
    pub(crate) fn malformed_response(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::BAD_GATEWAY,
            reason: reason.into(),
            kind: HandshakeErrorKind::MalformedResponse,
        }
    }

    /// The handshake could not start (invalid input from the caller, no
    /// OS randomness).
    pub(crate) fn local(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            reason: reason.into(),
            kind: HandshakeErrorKind::Local,
        }
    }
}
