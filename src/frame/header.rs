//! Frame header decoding and encoding: the one place for RFC 6455 §5.2.

use crate::frame::{Opcode, ProtocolErrorKind};

/// The three reserved bits of a frame header, as they sit in its first byte
/// (RSV1 = 0x40, RSV2 = 0x20, RSV3 = 0x10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rsv(u8);

impl Rsv {
    /// No reserved bit.
    pub const NONE: Self = Self(0);
    /// RSV1, which permessage-deflate uses to mark a compressed message.
    pub const RSV1: Self = Self(0x40);
    /// RSV2.
    pub const RSV2: Self = Self(0x20);
    /// RSV3.
    pub const RSV3: Self = Self(0x10);

    /// The bits as they sit in the header's first byte.
    ///
    /// ```
    /// use wsproto::frame::Rsv;
    ///
    /// assert_eq!(Rsv::RSV1.bits(), 0x40);
    /// ```
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The reserved bits of a header's first byte.
    ///
    /// ```
    /// use wsproto::frame::Rsv;
    ///
    /// assert_eq!(Rsv::from_first_byte(0xc1), Rsv::RSV1); // FIN, RSV1, text
    /// ```
    pub const fn from_first_byte(byte: u8) -> Self {
        Self(byte & 0x70)
    }

    /// Whether no bit is set.
    ///
    /// ```
    /// use wsproto::frame::Rsv;
    ///
    /// assert!(Rsv::NONE.is_empty());
    /// assert!(!Rsv::RSV2.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set in `self`.
    ///
    /// ```
    /// use wsproto::frame::Rsv;
    ///
    /// let both = Rsv::RSV1.union(Rsv::RSV3);
    /// assert!(both.contains(Rsv::RSV1));
    /// assert!(!both.contains(Rsv::RSV2));
    /// ```
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two sets.
    ///
    /// ```
    /// use wsproto::frame::Rsv;
    ///
    /// assert_eq!(Rsv::RSV1.union(Rsv::RSV2).bits(), 0x60);
    /// ```
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The bits of `self` that are not in `other`.
    ///
    /// ```
    /// use wsproto::frame::Rsv;
    ///
    /// let set = Rsv::RSV1.union(Rsv::RSV2);
    /// assert_eq!(set.difference(Rsv::RSV1), Rsv::RSV2);
    /// ```
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

/// The longest header: 2 bytes, 8 of extended length, 4 of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether this is the final frame of its message.
    pub fin: bool,
    /// Reserved bits; an extension must claim any that are set.
    pub rsv: Rsv,
    /// The frame's opcode.
    pub opcode: Opcode,
    /// The masking key, present exactly on client-to-server frames.
    pub mask: Option<[u8; 4]>,
    /// The payload length as declared; never trusted for allocation.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Decodes a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not yet hold the whole header, and
    /// otherwise the header with its encoded length. Everything §5.2 lets a
    /// receiver decide from the header alone is checked here, before any
    /// payload is read.
    ///
    /// ```
    /// use wsproto::frame::{FrameHeader, Opcode, ProtocolErrorKind};
    ///
    /// let (header, len) = FrameHeader::decode(b"\x89\x80\x01\x02\x03\x04")?.unwrap();
    /// assert_eq!((header.opcode, header.mask, header.payload_len, len), (Opcode::Ping, Some([1, 2, 3, 4]), 0, 6));
    /// assert_eq!(FrameHeader::decode(b"\x81")?, None); // need more bytes
    /// assert_eq!(FrameHeader::decode(b"\x83\x00"), Err(ProtocolErrorKind::ReservedOpcode));
    /// # Ok::<(), ProtocolErrorKind>(())
    /// ```
    ///
    /// # Errors
    ///
    /// 1002 for a reserved opcode, a fragmented or oversized control frame,
    /// a 64-bit length with the most significant bit set, or a length not in
    /// its minimal form.
    #[inline(always)]
    pub fn decode(buf: &[u8]) -> Result<Option<(Self, usize)>, ProtocolErrorKind> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = Rsv::from_first_byte(b0);
        // §5.2: "If an unknown opcode is received, the receiving endpoint
        // MUST _Fail the WebSocket Connection_."
        let opcode = Opcode::from_u8(b0 & 0x0F).ok_or(ProtocolErrorKind::ReservedOpcode)?;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7F;
        if opcode.is_control() {
            // §5.5: "All control frames MUST have a payload length of 125
            // bytes or less and MUST NOT be fragmented."
            if !fin {
                return Err(ProtocolErrorKind::FragmentedControlFrame);
            }
            if usize::from(len7) > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolErrorKind::ControlFrameTooLarge);
            }
        }
        let ext_len = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + ext_len + if masked { 4 } else { 0 };
        if buf.len() < header_len {
            return Ok(None);
        }
        let payload_len = match len7 {
            126 => {
                let len = u16::from_be_bytes([buf[2], buf[3]]);
                // §5.2: "the minimal number of bytes MUST be used to encode the length".
                if len < 126 {
                    return Err(ProtocolErrorKind::NonMinimalLength);
                }
                u64::from(len)
            }
            127 => {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&buf[2..10]);
                let len = u64::from_be_bytes(raw);
                // §5.2: "the most significant bit MUST be 0".
                if len >> 63 != 0 {
                    return Err(ProtocolErrorKind::LengthHighBitSet);
                }
                if len <= u64::from(u16::MAX) {
                    return Err(ProtocolErrorKind::NonMinimalLength);
                }
                len
            }
            short => u64::from(short),
        };
        let mask = masked.then(|| {
            let at = 2 + ext_len;
            [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]
        });
        Ok(Some((
            Self {
                fin,
                rsv,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        )))
    }

    /// The number of bytes [`FrameHeader::encode`] writes.
    ///
    /// ```
    /// use wsproto::frame::{FrameHeader, Opcode, Rsv};
    ///
    /// let header = FrameHeader { fin: true, rsv: Rsv::NONE, opcode: Opcode::Binary, mask: Some([1, 2, 3, 4]), payload_len: 1000 };
    /// assert_eq!(header.encoded_len(), 2 + 2 + 4); // 16-bit length, then the mask
    /// ```
    pub const fn encoded_len(&self) -> usize {
        let ext = if self.payload_len < 126 {
            0
        } else if self.payload_len <= u16::MAX as u64 {
            2
        } else {
            8
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Encodes the header in its minimal form; returns the buffer and the
    /// number of bytes used.
    ///
    /// ```
    /// use wsproto::frame::{FrameHeader, Opcode, Rsv};
    ///
    /// let header = FrameHeader { fin: true, rsv: Rsv::NONE, opcode: Opcode::Text, mask: None, payload_len: 5 };
    /// let (buf, len) = header.encode();
    /// assert_eq!(&buf[..len], b"\x81\x05");
    /// assert_eq!(FrameHeader::decode(&buf[..len]), Ok(Some((header, len))));
    /// ```
    #[inline]
    pub fn encode(&self) -> ([u8; MAX_HEADER_LEN], usize) {
        let mut out = [0u8; MAX_HEADER_LEN];
        out[0] = (if self.fin { 0x80 } else { 0 }) | self.rsv.bits() | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut at = 2;
        if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
        } else if let Ok(len) = u16::try_from(self.payload_len) {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&len.to_be_bytes());
            at = 4;
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            at = 10;
        }
        if let Some(key) = self.mask {
            out[at..at + 4].copy_from_slice(&key);
            at += 4;
        }
        (out, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u64, mask: Option<[u8; 4]>) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: Rsv::NONE,
            opcode: Opcode::Binary,
            mask,
            payload_len: len,
        }
    }

    #[test]
    fn all_three_length_forms_round_trip() {
        for len in [0, 1, 125, 126, 127, 65535, 65536, 1 << 32, (1 << 63) - 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let h = header(len, mask);
                let (buf, n) = h.encode();
                assert_eq!(n, h.encoded_len());
                assert_eq!(FrameHeader::decode(&buf[..n]).unwrap(), Some((h, n)));
                // Every strict prefix asks for more bytes.
                for cut in 0..n {
                    assert_eq!(
                        FrameHeader::decode(&buf[..cut]).unwrap(),
                        None,
                        "{len} {cut}"
                    );
                }
            }
        }
    }

    use crate::frame::CloseCode;

    fn decode_err(bytes: &[u8]) -> CloseCode {
        FrameHeader::decode(bytes).unwrap_err().close_code()
    }

    #[test]
    fn strict_header_rules_fail_with_1002() {
        // Reserved opcodes.
        for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(decode_err(&[0x80 | op, 0]), CloseCode::PROTOCOL_ERROR);
        }
        // Fragmented control frame, decided from two bytes.
        assert_eq!(decode_err(&[0x09, 0x00]), CloseCode::PROTOCOL_ERROR);
        // Control payload over 125, decided before the extended length arrives.
        assert_eq!(decode_err(&[0x89, 126]), CloseCode::PROTOCOL_ERROR);
        assert_eq!(decode_err(&[0x88, 127]), CloseCode::PROTOCOL_ERROR);
        // Non-minimal lengths.
        assert_eq!(decode_err(&[0x82, 126, 0, 125]), CloseCode::PROTOCOL_ERROR);
        assert_eq!(
            decode_err(&[0x82, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]),
            CloseCode::PROTOCOL_ERROR
        );
        // 64-bit length with the MSB set.
        assert_eq!(
            decode_err(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            CloseCode::PROTOCOL_ERROR
        );
    }
}
