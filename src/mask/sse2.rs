//! SSE2 masking: 16-byte vectors, four per step, from the first aligned address; the scalar
//! path takes the unaligned head and the tail.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86")]
use core::arch::x86::{__m128i, _mm_loadu_si128, _mm_set1_epi32, _mm_storeu_si128, _mm_xor_si128};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m128i, _mm_loadu_si128, _mm_set1_epi32, _mm_storeu_si128, _mm_xor_si128,
};

/// Bytes in one vector.
pub(super) const LANE: usize = 16;

/// XORs `buf` with `key`, where `key[0]` applies to `buf[0]` (the caller has rotated it).
#[target_feature(enable = "sse2")]
pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
    let (buf, key) = super::scalar::apply_until_aligned(buf, key, LANE);
    // x86 is little-endian: the i32 from key's LE bytes stores key[0] first in every 4-byte
    // group. LANE is a multiple of 4, so every vector and the tail start at key[0].
    let wide = _mm_set1_epi32(i32::from_le_bytes(key));
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
#[target_feature(enable = "sse2")]
fn xor_lane(lane: &mut [u8; LANE], wide: __m128i) {
    let at = lane.as_mut_ptr().cast::<__m128i>();
    // SAFETY: `at` addresses exactly the 16 bytes of `lane`, which we hold mutably; the
    // unaligned load/store have no alignment requirement.
    unsafe { _mm_storeu_si128(at, _mm_xor_si128(_mm_loadu_si128(at), wide)) }
}

#[cfg(test)]
mod tests {
    use super::super::{Isa, differential};

    #[test]
    fn matches_scalar() {
        if differential::runs_here(Isa::Sse2) {
            differential::against_scalar(Isa::Sse2);
        }
    }

    #[test]
    fn pieces_and_involution() {
        if differential::runs_here(Isa::Sse2) {
            differential::pieces_and_involution(Isa::Sse2);
        }
    }
}
