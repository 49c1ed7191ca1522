//! The extension framework (RFC 6455 §9): the [`Extension`] trait, offer
//! parsing, and negotiation.

use bytes::BytesMut;

use crate::error::{HandshakeError, LocalError, ProtocolError};
use crate::event::MessageKind;
use crate::frame::Rsv;

/// One extension offer or response: a name and its parameters, as in one
/// comma-separated element of `Sec-WebSocket-Extensions`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtensionOffer {
    /// The extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Parameters in order: name and optional value (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

/// A WebSocket extension: its part in the handshake and its transform of
/// data messages.
///
/// The connection calls the frame hooks only for data messages. An
/// extension claims the reserved bits it may set ([`Extension::rsv`]); a
/// frame with a reserved bit no negotiated extension claims fails the
/// connection with 1002. Claimed bits are only valid on the first frame of a
/// data message (the RFC 7692 rule), never on continuation or control frames.
pub trait Extension: Send + std::fmt::Debug {
    /// The registered name, e.g. `permessage-deflate`.
    fn name(&self) -> &str;

    /// The reserved bits this extension uses.
    fn rsv(&self) -> Rsv;

    /// Client: the offer to put in the request, or `None` to offer nothing.
    fn offer(&self) -> Option<ExtensionOffer>;

    /// Client: checks the server's response to our offer and configures the
    /// extension from it.
    ///
    /// # Errors
    ///
    /// The handshake fails when the response is not one this extension
    /// could have asked for.
    fn finalize(&mut self, response: &ExtensionOffer) -> Result<(), HandshakeError>;

    /// Server: considers one offer from the client; returns the response
    /// parameters to accept it (and configures itself), or `None` to decline.
    fn accept(&mut self, offer: &ExtensionOffer) -> Option<ExtensionOffer>;

    /// Called with the reserved bits of the first frame of every inbound data
    /// message; returns whether this extension decodes that message.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] fails the connection.
    fn decode_start(&mut self, rsv: Rsv) -> Result<bool, ProtocolError>;

    /// Decodes one whole frame of a message this extension claimed, appending
    /// at most `limit + 1` bytes to `out` (so going over the budget is seen
    /// without decoding further). `fin` marks the message's last frame.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] fails the connection.
    fn decode(
        &mut self,
        payload: &[u8],
        fin: bool,
        limit: u64,
        out: &mut BytesMut,
    ) -> Result<(), ProtocolError>;

    /// Encodes one outbound fragment (a whole message is one fragment with
    /// `first` and `fin` set). Returns `None` to send the payload unchanged,
    /// or the bits to set on this frame after writing the transformed payload
    /// to `out`. Only the first frame of a message may carry bits.
    ///
    /// # Errors
    ///
    /// A [`LocalError`] aborts the send.
    fn encode(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        first: bool,
        fin: bool,
        out: &mut BytesMut,
    ) -> Result<Option<Rsv>, LocalError>;
}
