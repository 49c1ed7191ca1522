//! Properties of the wire layer's building blocks, over generated inputs:
//! frame headers round-trip, masking is position-independent, and the
//! streaming UTF-8 validator agrees with `std::str::from_utf8` however the
//! bytes are split. Only the public API is used, so the SIMD mask and
//! validator are held to the same properties as the scalar ones.

use proptest::prelude::*;
use wsproto::frame::{FrameHeader, Rsv};
use wsproto::mask::apply_mask;
use wsproto::utf8::{self, Utf8Validator};
use wsproto::{CloseCode, Opcode};

const OPCODES: [Opcode; 6] = [
    Opcode::Continuation,
    Opcode::Text,
    Opcode::Binary,
    Opcode::Close,
    Opcode::Ping,
    Opcode::Pong,
];

/// Every header shape RFC 6455 §5.2 allows: control frames are final and
/// at most 125 bytes; data frames take any 63-bit length, with the lengths
/// around each encoding's boundaries drawn often.
fn valid_header() -> impl Strategy<Value = FrameHeader> {
    let length = prop_oneof![
        0u64..=130,
        65_530u64..=65_540,
        Just((1u64 << 63) - 1),
        0u64..(1 << 63),
    ];
    (
        any::<bool>(),
        0u8..8,
        prop::sample::select(OPCODES.to_vec()),
        any::<Option<[u8; 4]>>(),
        length,
        0u64..=125,
    )
        .prop_map(|(fin, rsv, opcode, mask, data_len, control_len)| {
            let control = opcode.is_control();
            FrameHeader {
                fin: fin || control,
                rsv: Rsv::from_first_byte(rsv << 4),
                opcode,
                mask,
                payload_len: if control { control_len } else { data_len },
            }
        })
}

/// Splits `len` bytes at the given (unsorted, possibly repeated) points.
fn pieces(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.windows(2).map(|w| (w[0], w[1])).collect()
}

proptest! {
    #[test]
    fn header_encode_then_decode_is_identity(
        header in valid_header(),
        trailing in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let (raw, len) = header.encode();
        prop_assert_eq!(len, header.encoded_len());
        let mut bytes = raw[..len].to_vec();
        bytes.extend_from_slice(&trailing);
        prop_assert_eq!(FrameHeader::decode(&bytes), Ok(Some((header, len))));
        // Every strict prefix only asks for more bytes.
        for cut in 0..len {
            prop_assert_eq!(FrameHeader::decode(&bytes[..cut]), Ok(None));
        }
    }

    #[test]
    fn control_headers_that_break_5_5_fail_with_1002(
        opcode in prop::sample::select(vec![Opcode::Close, Opcode::Ping, Opcode::Pong]),
        fin in any::<bool>(),
        len in 0u64..70_000,
        mask in any::<Option<[u8; 4]>>(),
    ) {
        prop_assume!(!fin || len > 125);
        let header = FrameHeader { fin, rsv: Rsv::NONE, opcode, mask, payload_len: len };
        let (raw, n) = header.encode();
        let err = FrameHeader::decode(&raw[..n]).expect_err("RFC 6455 §5.5 forbids this");
        prop_assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }

    #[test]
    fn reserved_opcodes_fail_with_1002(
        opcode in prop::sample::select(vec![3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]),
        second in any::<u8>(),
    ) {
        let err = FrameHeader::decode(&[0x80 | opcode, second]).expect_err("reserved opcode");
        prop_assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole(
        data in prop::collection::vec(any::<u8>(), 0..700),
        key in any::<[u8; 4]>(),
        start in 0usize..64,
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut whole = data.clone();
        apply_mask(&mut whole, key, start);
        // Against the definition (RFC 6455 §5.3): byte i is XORed with
        // key[i mod 4], counting from the payload's start.
        let reference: Vec<u8> = data
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[(start + i) % 4])
            .collect();
        prop_assert_eq!(&whole, &reference);
        let mut split = data.clone();
        for (from, to) in pieces(data.len(), &cuts) {
            apply_mask(&mut split[from..to], key, start + from);
        }
        prop_assert_eq!(&split, &whole);
        // Masking is its own inverse.
        apply_mask(&mut split, key, start);
        prop_assert_eq!(split, data);
    }

    #[test]
    fn streaming_utf8_agrees_with_std(
        bytes in utf8_like(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let expected = std::str::from_utf8(&bytes);
        prop_assert_eq!(utf8::validate(&bytes).is_ok(), expected.is_ok());

        let mut validator = Utf8Validator::default();
        let mut failed = false;
        for (from, to) in pieces(bytes.len(), &cuts) {
            if validator.feed(&bytes[from..to]).is_err() {
                failed = true;
                break;
            }
            // What is pending is exactly the unfinished character at the end
            // of what was fed so far, which must then be a valid prefix.
            let pending = match std::str::from_utf8(&bytes[..to]) {
                Ok(_) => 0,
                Err(e) => {
                    prop_assert!(e.error_len().is_none(), "invalid bytes were accepted");
                    to - e.valid_up_to()
                }
            };
            prop_assert_eq!(validator.pending_len(), pending);
        }
        let streamed_ok = !failed && validator.finish().is_ok();
        prop_assert_eq!(streamed_ok, expected.is_ok());

        // After a reset the validator starts over.
        validator.reset();
        prop_assert_eq!(validator.pending_len(), 0);
        prop_assert!(validator.feed("é".as_bytes()).is_ok());
        prop_assert!(validator.finish().is_ok());
    }
}

/// Mostly-valid UTF-8 with the ways it goes wrong: a stray byte, a
/// truncated character, an overlong form, a surrogate, a code point over
/// U+10FFFF.
fn utf8_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => ".{0,12}".prop_map(String::into_bytes),
        1 => any::<u8>().prop_map(|b| vec![b]),
        1 => Just(vec![0xE2, 0x82]),            // truncated €
        1 => Just(vec![0xC0, 0xAF]),            // overlong '/'
        1 => Just(vec![0xED, 0xA0, 0x80]),      // surrogate U+D800
        1 => Just(vec![0xF4, 0x90, 0x80, 0x80]), // U+110000
        1 => Just(vec![0xF0, 0x9F, 0x98, 0x80]), // 😀
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}
