//! TEMPORARY placeholder until the SIMD module lands.
/// Applies the mask.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(offset + i) % 4];
    }
}
