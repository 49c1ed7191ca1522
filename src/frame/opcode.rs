//! Frame opcodes (RFC 6455 §5.2, §11.8).

/// The kind of a frame, from the 4-bit opcode field.
///
/// Reserved opcodes (3–7, 0xB–0xF) never become an `Opcode`: decoding them
/// fails the connection with 1002 (RFC 6455 §5.2: "If an unknown opcode is
/// received, the receiving endpoint MUST _Fail the WebSocket Connection_").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// A continuation of a fragmented message.
    Continuation = 0x0,
    /// The first frame of a text message.
    Text = 0x1,
    /// The first frame of a binary message.
    Binary = 0x2,
    /// Close control frame.
    Close = 0x8,
    /// Ping control frame.
    Ping = 0x9,
    /// Pong control frame.
    Pong = 0xA,
}

impl Opcode {
    /// Maps the 4-bit opcode field to an `Opcode`, or `None` if it is reserved.
    ///
    /// ```
    /// use wsproto::Opcode;
    ///
    /// assert_eq!(Opcode::from_u8(0x9), Some(Opcode::Ping));
    /// assert_eq!(Opcode::from_u8(0x3), None); // reserved
    /// ```
    pub const fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// The wire value.
    ///
    /// ```
    /// assert_eq!(wsproto::Opcode::Binary.as_u8(), 0x2);
    /// ```
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Control frames are those whose opcode has the high bit set (RFC 6455 §5.5).
    ///
    /// ```
    /// use wsproto::Opcode;
    ///
    /// assert!(Opcode::Close.is_control());
    /// assert!(!Opcode::Text.is_control());
    /// ```
    pub const fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_or_is_reserved() {
        for v in 0u8..16 {
            match Opcode::from_u8(v) {
                Some(op) => assert_eq!(op.as_u8(), v),
                None => assert!(matches!(v, 3..=7 | 0xB..=0xF)),
            }
        }
        assert!(Opcode::Ping.is_control());
        assert!(!Opcode::Continuation.is_control());
    }
}
