//! AVX-512 masking: 64-byte vectors, four per step, from the first aligned address; the scalar
//! path takes the unaligned head and the tail.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86")]
use core::arch::x86::{
    __m512i, _mm512_loadu_si512, _mm512_set1_epi32, _mm512_storeu_si512, _mm512_xor_si512,
};
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m512i, _mm512_loadu_si512, _mm512_set1_epi32, _mm512_storeu_si512, _mm512_xor_si512,
};

/// Bytes in one vector.
pub(super) const LANE: usize = 64;

/// XORs `buf` with `key`, where `key[0]` applies to `buf[0]` (the caller has rotated it).
#[target_feature(enable = "avx512f")]
pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
    let (buf, key) = super::scalar::apply_until_aligned(buf, key, LANE);
    // x86 is little-endian: the i32 from key's LE bytes stores key[0] first in every 4-byte
    // group. LANE is a multiple of 4, so every vector and the tail start at key[0].
    let wide = _mm512_set1_epi32(i32::from_le_bytes(key));
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

/// XORs the 64 bytes of `lane` with `wide`.
#[inline]
#[target_feature(enable = "avx512f")]
fn xor_lane(lane: &mut [u8; LANE], wide: __m512i) {
    let at = lane.as_mut_ptr().cast::<__m512i>();
    // SAFETY: `at` addresses exactly the 64 bytes of `lane`, which we hold mutably; the
    // unaligned load/store have no alignment requirement.
    unsafe { _mm512_storeu_si512(at, _mm512_xor_si512(_mm512_loadu_si512(at), wide)) }
}

#[cfg(test)]
mod tests {
    use super::super::{Isa, differential};

    #[test]
    fn matches_scalar() {
        if differential::runs_here(Isa::Avx512) {
            differential::against_scalar(Isa::Avx512);
        }
    }

    #[test]
    fn pieces_and_involution() {
        if differential::runs_here(Isa::Avx512) {
            differential::pieces_and_involution(Isa::Avx512);
        }
    }
}
