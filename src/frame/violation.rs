//! Every way a peer's bytes can break RFC 6455 or RFC 7692, as a
//! machine-readable kind with the close code it calls for.
//!
//! The wire layer reports these; [`ProtocolError`](crate::ProtocolError)
//! carries one beside its close code, so that a caller can match on what
//! happened without parsing the reason.

use super::CloseCode;

/// What the peer did wrong. Each kind maps to exactly one close code
/// ([`ProtocolErrorKind::close_code`]), except [`Extension`](Self::Extension),
/// whose code the extension chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// An opcode RFC 6455 §5.2 reserves (3–7, 11–15). 1002.
    ReservedOpcode,
    /// A control frame without FIN (§5.5). 1002.
    FragmentedControlFrame,
    /// A control frame with more than 125 bytes of payload (§5.5). 1002.
    ControlFrameTooLarge,
    /// A payload length not in its minimal encoding (§5.2). 1002.
    NonMinimalLength,
    /// A 64-bit payload length with the most significant bit set (§5.2). 1002.
    LengthHighBitSet,
    /// A server sent a masked frame (§5.1). 1002.
    MaskedFrameFromServer,
    /// A client sent an unmasked frame (§5.1). 1002.
    UnmaskedFrameFromClient,
    /// A reserved bit that no negotiated extension claims (§5.2). 1002.
    ReservedBitsSet,
    /// A continuation frame with no message to continue (§5.4). 1002.
    UnexpectedContinuation,
    /// A new data message before the previous one finished (§5.4). 1002.
    InterleavedMessage,
    /// A close frame with a 1-byte payload (§5.5.1). 1002.
    CloseFrameTooShort,
    /// A close code that may not be sent (§7.4). 1002.
    InvalidCloseCode,
    /// A close reason that is not UTF-8 (§5.5.1). 1007.
    InvalidCloseReason,
    /// A text message that is not UTF-8 (§8.1). 1007.
    InvalidUtf8,
    /// A frame declared larger than `Config::max_frame_size`. 1009.
    FrameTooLarge,
    /// A message larger than `Config::max_message_size`, counted after
    /// decompression. 1009.
    MessageTooLarge,
    /// A negotiated extension refused the data (e.g. corrupt compressed
    /// data, 1007); the code is the extension's.
    Extension,
}

impl ProtocolErrorKind {
    /// The close code this violation calls for (RFC 6455 §7.4.1). For
    /// [`Extension`](Self::Extension), 1002; an extension's own errors carry
    /// the code it chose.
    ///
    /// ```
    /// use wsproto::{CloseCode, ProtocolErrorKind};
    ///
    /// assert_eq!(ProtocolErrorKind::InvalidUtf8.close_code(), CloseCode::INVALID_FRAME_PAYLOAD_DATA);
    /// assert_eq!(ProtocolErrorKind::MessageTooLarge.close_code(), CloseCode::MESSAGE_TOO_BIG);
    /// assert_eq!(ProtocolErrorKind::ReservedOpcode.close_code(), CloseCode::PROTOCOL_ERROR);
    /// ```
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::InvalidCloseReason | Self::InvalidUtf8 => CloseCode::INVALID_FRAME_PAYLOAD_DATA,
            Self::FrameTooLarge | Self::MessageTooLarge => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// What went wrong, in words (also the reason of the close frame sent).
    ///
    /// ```
    /// use wsproto::ProtocolErrorKind;
    ///
    /// assert_eq!(ProtocolErrorKind::ReservedOpcode.description(), "reserved opcode");
    /// ```
    pub const fn description(self) -> &'static str {
        match self {
            Self::ReservedOpcode => "reserved opcode",
            Self::FragmentedControlFrame => "fragmented control frame",
            Self::ControlFrameTooLarge => "control frame payload over 125 bytes",
            Self::NonMinimalLength => "payload length not in its minimal form",
            Self::LengthHighBitSet => "64-bit payload length with the high bit set",
            Self::MaskedFrameFromServer => "masked frame from the server",
            Self::UnmaskedFrameFromClient => "unmasked frame from the client",
            Self::ReservedBitsSet => "reserved bit set that no extension claims",
            Self::UnexpectedContinuation => "continuation frame without a message to continue",
            Self::InterleavedMessage => "new data message before the previous one finished",
            Self::CloseFrameTooShort => "close frame with a 1-byte payload",
            Self::InvalidCloseCode => "close frame with an invalid status code",
            Self::InvalidCloseReason => "close reason is not valid UTF-8",
            Self::InvalidUtf8 => "text is not valid UTF-8",
            Self::FrameTooLarge => "frame larger than max_frame_size",
            Self::MessageTooLarge => "message larger than max_message_size",
            Self::Extension => "extension error",
        }
    }
}

impl std::fmt::Display for ProtocolErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}
