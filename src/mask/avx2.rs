//! AVX2 masking: 32-byte vectors, four per step, from the first aligned address; the scalar
//! path takes the unaligned head and the tail.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86")]
use core::arch::x86::{
    __m256i, _mm256_loadu_si256, _mm256_set1_epi32, _mm256_storeu_si256, _mm256_xor_si256,
};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m256i, _mm256_loadu_si256, _mm256_set1_epi32, _mm256_storeu_si256, _mm256_xor_si256,
};

/// Bytes in one vector.
pub(super) const LANE: usize = 32;

/// XORs `buf` with `key`, where `key[0]` applies to `buf[0]` (the caller has rotated it).
#[target_feature(enable = "avx2")]
pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
    let (buf, key) = super::scalar::apply_until_aligned(buf, key, LANE);
    // x86 is little-endian: the i32 from key's LE bytes stores key[0] first in every 4-byte
    // group. LANE is a multiple of 4, so every vector and the tail start at key[0].
    let wide = _mm256_set1_epi32(i32::from_le_bytes(key));
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

/// XORs the 32 bytes of `lane` with `wide`.
#[inline]
#[target_feature(enable = "avx2")]
fn xor_lane(lane: &mut [u8; LANE], wide: __m256i) {
    let at = lane.as_mut_ptr().cast::<__m256i>();
    // SAFETY: `at` addresses exactly the 32 bytes of `lane`, which we hold mutably; the
    // unaligned load/store have no alignment requirement.
    unsafe { _mm256_storeu_si256(at, _mm256_xor_si256(_mm256_loadu_si256(at), wide)) }
}

#[cfg(test)]
mod tests {
    use super::super::{Isa, differential};

    #[test]
    fn matches_scalar() {
        if differential::runs_here(Isa::Avx2) {
            differential::against_scalar(Isa::Avx2);
        }
    }

    #[test]
    fn pieces_and_involution() {
        if differential::runs_here(Isa::Avx2) {
            differential::pieces_and_involution(Isa::Avx2);
        }
    }
}
