//! Scalar masking, the reference every SIMD path is tested against: eight bytes per step.
#![forbid(unsafe_code)]

/// XORs `buf` with `key`, where `key[0]` applies to `buf[0]` (the caller has rotated it).
#[inline]
pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
    // RFC 6455 §5.3:
    //     j                   = i MOD 4
    //     transformed-octet-i = original-octet-i XOR masking-key-octet-j
    // A word of 8 bytes spans two whole key periods, so every word and the tail after them
    // start at j = 0. Native-endian on both sides keeps the bytes where they were.
    let [k0, k1, k2, k3] = key;
    let wide = u64::from_ne_bytes([k0, k1, k2, k3, k0, k1, k2, k3]);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for word in words {
        *word = (u64::from_ne_bytes(*word) ^ wide).to_ne_bytes();
    }
    for (byte, k) in tail.iter_mut().zip(key) {
        *byte ^= k;
    }
    if let Some(rest) = tail.get_mut(4..) {
        for (byte, k) in rest.iter_mut().zip(key) {
            *byte ^= k;
        }
    }
}

/// Masks the bytes of `buf` before its first `align`-aligned address and returns the rest
/// with `key` rotated to the rest's first byte, so long SIMD loops never split a cache line.
/// A buffer shorter than `8 * align` comes back whole: for a few vectors, the split lines cost
/// less than a scalar head.
#[inline]
pub(super) fn apply_until_aligned(
    buf: &mut [u8],
    key: [u8; 4],
    align: usize,
) -> (&mut [u8], [u8; 4]) {
    if buf.len() < 8 * align {
        return (buf, key);
    }
    // align_offset may answer usize::MAX ("cannot align"); then everything goes to the head.
    let head_len = buf.as_ptr().align_offset(align).min(buf.len());
    let (head, rest) = buf.split_at_mut(head_len);
    apply(head, key);
    (rest, super::rotated(key, head_len))
}

#[cfg(test)]
mod tests {
    use super::super::{Isa, differential};

    /// The RFC's formula, one byte at a time, for `buf` starting at j = 0.
    fn by_the_letter(buf: &mut [u8], key: [u8; 4]) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[i % 4];
        }
    }

    #[test]
    fn matches_the_rfc_formula() {
        differential::against(Isa::Scalar, by_the_letter);
    }

    #[test]
    fn pieces_and_involution() {
        differential::pieces_and_involution(Isa::Scalar);
    }

    #[test]
    fn apply_until_aligned_matches_apply() {
        let original: Vec<u8> = (0..=255).cycle().take(800).collect();
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for start in 0..64 {
            for len in [0, 1, 5, 64, 511, 512, 513, 700] {
                let mut got = original.clone();
                let (rest, rest_key) =
                    super::apply_until_aligned(&mut got[start..start + len], key, 64);
                assert!(len < 8 * 64 || rest.as_ptr().align_offset(64) == 0);
                super::apply(rest, rest_key);
                let mut want = original.clone();
                by_the_letter(&mut want[start..start + len], key);
                assert_eq!(got, want, "start {start}, len {len}");
            }
        }
    }
}
