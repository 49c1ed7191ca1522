//! The adapter's error: who is at fault (the transport, the peer, the
//! caller) and how the connection ended.

use bytes::Bytes;

use crate::error::{HandshakeError, LocalError, ProtocolError};

/// What went wrong on a [`WebSocketStream`](super::WebSocketStream) or
/// during its opening handshake.
///
/// After [`Io`](Self::Io), [`Protocol`](Self::Protocol),
/// [`CloseTimeout`](Self::CloseTimeout) or
/// [`KeepaliveTimeout`](Self::KeepaliveTimeout) the connection is over:
/// the stream yields `None` and the sink [`AlreadyClosed`](Self::AlreadyClosed).
/// [`Local`](Self::Local) leaves the connection as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke RFC 6455 or RFC 7692, or a configured limit. The close
    /// frame with the error's code was written (as far as the transport
    /// took it) before the transport was shut down.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The caller asked for something the connection does not allow (a
    /// ping over 125 bytes, a fragment of the wrong kind…). Nothing was sent;
    /// the connection goes on.
    #[error(transparent)]
    Local(#[from] LocalError),
    /// The opening handshake failed: a bad request (the server answered it
    /// with the error's status), or a response the client refused.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The other side declined the upgrade with this response. For a client,
    /// the server's answer, body included; for a server, the answer the
    /// decider chose, already written.
    #[error("handshake rejected with status {}", .0.status())]
    Rejected(Box<http::Response<Bytes>>),
    /// The close handshake is under way or over, so nothing more may be
    /// sent: the peer's close arrived, or the connection ended cleanly.
    #[error("the connection is closed")]
    ConnectionClosed,
    /// The stream was used after it ended: after our own close was sent, or
    /// after an error or the end of the stream was reported.
    #[error("the connection was already closed")]
    AlreadyClosed,
    /// Our close frame went unanswered for
    /// [`StreamConfig::close_timeout`](super::StreamConfig::close_timeout);
    /// the transport was shut down.
    #[error("the peer did not answer our close frame in time")]
    CloseTimeout,
    /// No pong answered our keepalive ping within
    /// [`StreamConfig::keepalive_timeout`](super::StreamConfig::keepalive_timeout);
    /// a close frame with code 1011 was sent and the transport shut down.
    #[error("the peer did not answer a keepalive ping in time")]
    KeepaliveTimeout,
}
