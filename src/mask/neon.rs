//! NEON masking (AArch64): 16-byte vectors, four per step, from the first aligned address; the
//! scalar path takes the unaligned head and the tail.
#![allow(unsafe_code)]

use core::arch::aarch64::{uint8x16_t, veorq_u8, vld1q_u8, vst1q_u8};

/// Bytes in one vector.
pub(super) const LANE: usize = 16;

/// XORs `buf` with `key`, where `key[0]` applies to `buf[0]` (the caller has rotated it).
#[target_feature(enable = "neon")]
pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
    let (buf, key) = super::scalar::apply_until_aligned(buf, key, LANE);
    // Loading the key as bytes (not as a u32) keeps the order right on either endianness.
    // LANE is a multiple of 4, so every vector and the tail start at key[0].
    let mut pattern = [0u8; LANE];
    for (byte, k) in pattern.iter_mut().zip(key.iter().cycle()) {
        *byte = *k;
    }
    // SAFETY: `pattern` is 16 readable bytes; vld1q_u8 has no alignment requirement for u8.
    let wide = unsafe { vld1q_u8(pattern.as_ptr()) };
    let (blocks, rest) = buf.as_chunks_mut::<{ 4 * LANE }>();
    for block in blocks {
        let (lanes, _) = block.as_chunks_mut::<LANE>();
        for lane in lanes {
            xor_lane(lane, wide);
        }
    }
    let (lanes, tail) = rest.as_chunks_mut::<LANE>();
    for lane in lanes {
        xor_lane(lane, wide);
    }
    super::scalar::apply(tail, key);
}

/// XORs the 16 bytes of `lane` with `wide`.
#[inline]
#[target_feature(enable = "neon")]
fn xor_lane(lane: &mut [u8; LANE], wide: uint8x16_t) {
    let at = lane.as_mut_ptr();
    // SAFETY: `at` addresses exactly the 16 bytes of `lane`, which we hold mutably; the u8
    // load/store need only byte alignment.
    unsafe { vst1q_u8(at, veorq_u8(vld1q_u8(at), wide)) }
}

#[cfg(test)]
mod tests {
    use super::super::{Isa, differential};

    #[test]
    fn matches_scalar() {
        if differential::runs_here(Isa::Neon) {
            differential::against_scalar(Isa::Neon);
        }
    }

    #[test]
    fn pieces_and_involution() {
        if differential::runs_here(Isa::Neon) {
            differential::pieces_and_involution(Isa::Neon);
        }
    }
}
