//! Close codes and the close frame payload (RFC 6455 §5.5.1, §7.4).

use bytes::{BufMut, Bytes};

use super::ProtocolErrorKind;
use crate::Utf8Bytes;
use crate::utf8;

/// A close status code (RFC 6455 §7.4): an open newtype, so codes this crate
/// has no name for still round-trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: reserved; reported when a close frame carried no code. Never sent.
    pub const NO_STATUS_RCVD: Self = Self(1005);
    /// 1006: reserved; reported when the transport closed without a close frame. Never sent.
    pub const ABNORMAL_CLOSURE: Self = Self(1006);
    /// 1007: a message's data was inconsistent with its type (invalid UTF-8 in text).
    pub const INVALID_FRAME_PAYLOAD_DATA: Self = Self(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway received an invalid response upstream.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: reserved; reported when the TLS handshake failed. Never sent.
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Whether this code may appear in a close frame on the wire.
    ///
    /// RFC 6455 §7.4.1/§7.4.2 and the IANA registry: 1000–1003 and 1007–1014
    /// are defined for use, 3000–4999 belong to libraries and applications.
    /// 1004–1006 and 1015 are reserved and MUST NOT be sent; everything below
    /// 1000 and from 5000 up is invalid.
    ///
    /// ```
    /// use wsproto::CloseCode;
    ///
    /// assert!(CloseCode::NORMAL.is_sendable());
    /// assert!(CloseCode(4000).is_sendable()); // an application's own code
    /// assert!(!CloseCode::ABNORMAL_CLOSURE.is_sendable()); // 1006 is only reported locally
    /// ```
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// The name of a registered code, as in Python wsproto's `CloseReason`.
    ///
    /// ```
    /// use wsproto::CloseCode;
    ///
    /// assert_eq!(CloseCode(1001).name(), Some("GOING_AWAY"));
    /// assert_eq!(CloseCode(4000).name(), None);
    /// ```
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "NORMAL_CLOSURE",
            1001 => "GOING_AWAY",
            1002 => "PROTOCOL_ERROR",
            1003 => "UNSUPPORTED_DATA",
            1005 => "NO_STATUS_RCVD",
            1006 => "ABNORMAL_CLOSURE",
            1007 => "INVALID_FRAME_PAYLOAD_DATA",
            1008 => "POLICY_VIOLATION",
            1009 => "MESSAGE_TOO_BIG",
            1010 => "MANDATORY_EXT",
            1011 => "INTERNAL_ERROR",
            1012 => "SERVICE_RESTART",
            1013 => "TRY_AGAIN_LATER",
            1014 => "BAD_GATEWAY",
            1015 => "TLS_HANDSHAKE_FAILED",
            _ => return None,
        })
    }
}

impl std::fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{}({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

/// The largest close reason that fits a control frame: 125 bytes of
/// payload minus the 2-byte code (RFC 6455 §5.5).
pub const MAX_CLOSE_REASON: usize = 123;

/// A close frame's content: the code and the (UTF-8) reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code. 1005 when the frame carried none, 1006 when the
    /// transport ended without a close frame.
    pub code: CloseCode,
    /// The reason text, possibly empty.
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    /// A close frame with `code` and `reason`.
    ///
    /// ```
    /// use wsproto::{CloseCode, CloseFrame};
    ///
    /// let frame = CloseFrame::new(CloseCode::NORMAL, "done");
    /// assert_eq!(frame.reason.as_str(), "done");
    /// ```
    pub fn new(code: CloseCode, reason: impl Into<Utf8Bytes>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// Parses a received close payload.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use wsproto::{CloseCode, CloseFrame, ProtocolErrorKind};
    ///
    /// let frame = CloseFrame::parse(Bytes::from_static(b"\x03\xe8bye"))?;
    /// assert_eq!((frame.code, frame.reason.as_str()), (CloseCode::NORMAL, "bye"));
    /// assert_eq!(CloseFrame::parse(Bytes::new())?.code, CloseCode::NO_STATUS_RCVD);
    /// assert_eq!(CloseFrame::parse(Bytes::from_static(b"\x03")), Err(ProtocolErrorKind::CloseFrameTooShort));
    /// # Ok::<(), ProtocolErrorKind>(())
    /// ```
    ///
    /// # Errors
    ///
    /// 1002 for a 1-byte payload or a code that may not be sent; 1007 for a
    /// reason that is not UTF-8 (RFC 6455 §5.5.1, §7.4).
    pub fn parse(payload: Bytes) -> Result<Self, ProtocolErrorKind> {
        match payload.len() {
            0 => Ok(Self::new(CloseCode::NO_STATUS_RCVD, "")),
            1 => Err(ProtocolErrorKind::CloseFrameTooShort),
            _ => {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_sendable() {
                    return Err(ProtocolErrorKind::InvalidCloseCode);
                }
                let reason = payload.slice(2..);
                // RFC 6455 §5.5.1: the reason's data "MUST be UTF-8", and
                // §8.1 makes invalid UTF-8 fail the connection.
                utf8::validate(&reason).map_err(|_| ProtocolErrorKind::InvalidCloseReason)?;
                Ok(Self::new(code, Utf8Bytes::from_validated(reason)))
            }
        }
    }

    /// The close payload to put on the wire: empty for 1005, otherwise the
    /// code and the reason cut to [`MAX_CLOSE_REASON`] bytes at a character
    /// boundary.
    pub(crate) fn write_payload(&self, out: &mut impl BufMut) {
        if self.code == CloseCode::NO_STATUS_RCVD {
            return;
        }
        out.put_u16(self.code.0);
        out.put_slice(truncate_reason(self.reason.as_str()).as_bytes());
    }
}

/// Cuts `reason` to at most [`MAX_CLOSE_REASON`] bytes without splitting a character.
pub(crate) fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_match_rfc_6455_7_4() {
        let valid: Vec<u16> = (0..=u16::MAX)
            .filter(|&c| CloseCode(c).is_sendable())
            .collect();
        assert_eq!(valid.len(), 4 + 8 + 2000);
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(!CloseCode(code).is_sendable(), "{code}");
        }
        for code in [1000, 1003, 1007, 1014, 3000, 4999] {
            assert!(CloseCode(code).is_sendable(), "{code}");
        }
    }

    #[test]
    fn parse_rejects_what_the_rfc_forbids() {
        let err = |p: &'static [u8]| {
            CloseFrame::parse(Bytes::from_static(p))
                .unwrap_err()
                .close_code()
        };
        assert_eq!(err(&[0x03]), CloseCode::PROTOCOL_ERROR);
        assert_eq!(err(&[0x03, 0xED]), CloseCode::PROTOCOL_ERROR); // 1005
        assert_eq!(err(&[0x00, 0x00]), CloseCode::PROTOCOL_ERROR);
        assert_eq!(
            err(&[0x03, 0xE8, 0xFF]),
            CloseCode::INVALID_FRAME_PAYLOAD_DATA
        );
        let ok = CloseFrame::parse(Bytes::from_static(b"\x03\xe8bye")).unwrap();
        assert_eq!(ok.code, CloseCode::NORMAL);
        assert_eq!(ok.reason.as_str(), "bye");
        let empty = CloseFrame::parse(Bytes::new()).unwrap();
        assert_eq!(empty.code, CloseCode::NO_STATUS_RCVD);
    }

    #[test]
    fn reason_is_truncated_at_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = truncate_reason(&long);
        assert!(cut.len() <= MAX_CLOSE_REASON);
        assert_eq!(cut.len(), 122);
    }
}
