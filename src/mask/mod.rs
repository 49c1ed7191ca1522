//! Payload masking (RFC 6455 §5.3): the ISA cfg matrix, a runtime dispatch detected once, and
//! the public entry points.
//!
//! RFC 6455 §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i
//! of the original data ("original-octet-i") with octet at index i modulo 4 of the masking key
//! ("masking-key-octet-j") [...] The same algorithm applies regardless of the direction of the
//! translation, e.g., the same steps are applied to mask the data as to unmask the data."
//!
//! Every implementation takes a key already rotated so that `key[0]` applies to `buf[0]`; the
//! rotation for a payload offset happens once, here. `scalar.rs` is the reference; each SIMD
//! file XORs whole vectors and hands the tail to it.
//!
//! Forcing the scalar path: set `WSPROTO_FORCE_SCALAR` to a non-empty value other than `0`
//! before the first call, or build with `--cfg wsproto_force_scalar`. Either one changes only
//! [`Isa::selected`]; [`Isa::available`] still reports the CPU, so tests and benchmarks can
//! reach every path through [`apply_mask_with`].
#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

use std::sync::atomic::{AtomicU8, Ordering};

mod scalar;

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod avx2;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod sse2;

/// Environment variable that, when non-empty and not `0` at first use, forces the scalar path.
const FORCE_SCALAR_ENV: &str = "WSPROTO_FORCE_SCALAR";

/// Which implementation applies the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum Isa {
    /// Portable Rust, eight bytes at a time; available everywhere.
    Scalar = 1,
    /// x86 SSE2, 16-byte vectors.
    Sse2 = 2,
    /// x86 AVX2, 32-byte vectors.
    Avx2 = 3,
    /// x86 AVX-512F, 64-byte vectors.
    Avx512 = 4,
    /// AArch64 Advanced SIMD, 16-byte vectors.
    Neon = 5,
}

/// Every variant, worst to best within each architecture; `available` keeps this order.
const ALL: [Isa; 5] = [Isa::Scalar, Isa::Sse2, Isa::Avx2, Isa::Neon, Isa::Avx512];

/// Cached [`Isa::selected`]: 0 until the first detection, then an `Isa` discriminant.
static SELECTED: AtomicU8 = AtomicU8::new(0);

impl Isa {
    /// Paths usable on this CPU, ordered worst to best: `Scalar` is always first, and the last
    /// one is what [`Isa::selected`] picks unless the scalar path is forced.
    ///
    /// # Examples
    ///
    /// ```
    /// use wsproto::mask::Isa;
    /// let isas = Isa::available();
    /// assert_eq!(isas[0], Isa::Scalar);
    /// assert!(isas.contains(&Isa::selected()));
    /// ```
    #[must_use]
    pub fn available() -> Vec<Isa> {
        ALL.into_iter().filter(|isa| isa.is_available()).collect()
    }

    /// The path [`apply_mask`] uses: the best available one, or `Scalar` when forced (see the
    /// module docs). Detected on first call and cached for the life of the process.
    ///
    /// ```
    /// use wsproto::mask::Isa;
    ///
    /// let isa = Isa::selected();
    /// assert!(Isa::available().contains(&isa));
    /// ```
    #[must_use]
    pub fn selected() -> Isa {
        if let Some(isa) = Isa::from_code(SELECTED.load(Ordering::Relaxed)) {
            return isa;
        }
        // Racing first callers all compute the same answer, so Relaxed and a plain store suffice.
        let isa = detect();
        SELECTED.store(isa as u8, Ordering::Relaxed);
        isa
    }

    fn from_code(code: u8) -> Option<Isa> {
        ALL.into_iter().find(|isa| *isa as u8 == code)
    }

    /// Whether this CPU can run `self`; std caches the feature probes, so this is cheap.
    fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Isa::Sse2 => std::is_x86_feature_detected!("sse2"),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Isa::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Isa::Avx512 => std::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            // Paths for other architectures are never compiled in.
            _ => false,
        }
    }
}

/// Picks the path for [`Isa::selected`]: forced scalar, else the best available.
fn detect() -> Isa {
    if cfg!(wsproto_force_scalar) || force_scalar(std::env::var_os(FORCE_SCALAR_ENV).as_deref()) {
        return Isa::Scalar;
    }
    ALL.into_iter()
        .rev()
        .find(|isa| isa.is_available())
        .unwrap_or(Isa::Scalar)
}

/// Whether a value of `WSPROTO_FORCE_SCALAR` asks for the scalar path.
fn force_scalar(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

/// XORs `buf` with the masking `key`, where `buf[0]` is byte `offset` of the payload (only
/// `offset % 4` matters), so a payload can be masked or unmasked in pieces as it arrives.
/// Masking and unmasking are the same operation.
///
/// # Examples
///
/// ```
/// use wsproto::mask::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut whole = *b"Hello";
/// apply_mask(&mut whole, key, 0);
/// assert_eq!(whole, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
///
/// let mut pieces = *b"Hello";
/// let (head, tail) = pieces.split_at_mut(2);
/// apply_mask(head, key, 0);
/// apply_mask(tail, key, 2);
/// assert_eq!(pieces, whole);
/// ```
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let isa = Isa::selected();
    // SAFETY: `selected` returns only `Scalar` or a path for which `detect` saw
    // `is_available` (the runtime CPU feature probe) return true.
    unsafe { apply_unchecked(isa, buf, key, offset) }
}

/// How much is copied before it is masked by [`extend_masked`]: small enough
/// to stay in L1 between the copy and the mask (a multiple of 4, so each piece
/// starts at key byte 0 — the offset is passed anyway).
const PIECE: usize = 16 * 1024;

/// Appends `src` to `dst` with the mask applied, `key[0]` falling on payload
/// byte `offset`: copied and masked a piece at a time, so the mask pass reads
/// bytes the copy just left in L1 instead of making a second pass over a
/// payload larger than the cache. Used both ways: a client's frames on the
/// way out, and a server's received payload on the way in.
pub(crate) fn extend_masked(dst: &mut bytes::BytesMut, src: &[u8], key: [u8; 4], offset: usize) {
    dst.reserve(src.len());
    for (i, piece) in src.chunks(PIECE).enumerate() {
        let start = dst.len();
        dst.extend_from_slice(piece);
        apply_mask(&mut dst[start..], key, offset.wrapping_add(i * PIECE));
    }
}

/// Same as [`apply_mask`], forcing the implementation `isa`.
///
/// Returns `false`, leaving `buf` untouched, if `isa` is not available on this CPU.
///
/// # Examples
///
/// ```
/// use wsproto::mask::{apply_mask_with, Isa};
/// let mut buf = *b"Hello";
/// assert!(apply_mask_with(Isa::Scalar, &mut buf, [0x37, 0xfa, 0x21, 0x3d], 0));
/// assert_eq!(buf, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
pub fn apply_mask_with(isa: Isa, buf: &mut [u8], key: [u8; 4], offset: usize) -> bool {
    if !isa.is_available() {
        return false;
    }
    // SAFETY: `is_available` just confirmed this CPU supports `isa`.
    unsafe { apply_unchecked(isa, buf, key, offset) };
    true
}

/// Rotates `key` to `offset` and runs the `isa` path.
///
/// # Safety
///
/// `isa.is_available()` must be true: the SIMD paths execute instructions of that ISA.
unsafe fn apply_unchecked(isa: Isa, buf: &mut [u8], key: [u8; 4], offset: usize) {
    // buf[i] is payload byte offset + i, so it takes key[(offset + i) % 4].
    let key = rotated(key, offset);
    match isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        // SAFETY: the caller guarantees SSE2 is available.
        Isa::Sse2 if buf.len() >= sse2::LANE => unsafe { sse2::apply(buf, key) },
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        // SAFETY: the caller guarantees AVX2 is available.
        Isa::Avx2 if buf.len() >= avx2::LANE => unsafe { avx2::apply(buf, key) },
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        // SAFETY: the caller guarantees AVX-512F is available.
        Isa::Avx512 if buf.len() >= avx512::LANE => unsafe { avx512::apply(buf, key) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: the caller guarantees NEON is available.
        Isa::Neon if buf.len() >= neon::LANE => unsafe { neon::apply(buf, key) },
        // Scalar; buffers shorter than one vector, which a SIMD path would hand whole to its
        // scalar tail; and (unreachable given the contract) paths not compiled for this target.
        _ => scalar::apply(buf, key),
    }
}

/// The key as seen from payload byte `offset`: `rotated(key, offset)[0] == key[offset % 4]`.
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    // As a little-endian u32 the first key byte is the low one, so moving later bytes to the
    // front is a right rotation. (`<[u8]>::rotate_left` compiles to memmove calls.)
    let shift = 8 * (offset % 4) as u32;
    u32::from_le_bytes(key).rotate_right(shift).to_le_bytes()
}

/// The sweep every ISA file runs against the scalar reference.
#[cfg(test)]
mod differential {
    use super::{Isa, apply_mask_with, rotated, scalar};

    /// Every length up to this one is swept.
    const MAX_LEN: usize = 300;
    /// Also swept: lengths long enough for the SIMD paths to align their head (8 vectors).
    const LONG_LENS: [usize; 4] = [511, 512, 513, 2048 + 77];
    /// Start positions of the buffer inside its allocation, to vary alignment.
    const MAX_START: usize = 63;
    const KEYS: [[u8; 4]; 3] = [
        [0x37, 0xfa, 0x21, 0x3d],
        [0xff, 0x00, 0x80, 0x01],
        [1, 2, 3, 4],
    ];

    /// Deterministic, non-repeating-looking bytes.
    fn noise(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x.to_le_bytes()[0]
            })
            .collect()
    }

    /// Returns false (after saying so) when `isa` cannot run here.
    pub(super) fn runs_here(isa: Isa) -> bool {
        let ok = Isa::available().contains(&isa);
        if !ok {
            eprintln!("skipping: {isa:?} is not available on this CPU");
        }
        ok
    }

    /// `isa` agrees with the scalar reference for every length 0..=300 (and a few longer),
    /// every start 0..=63 inside a larger allocation, payload offsets 0..8 and a few keys, and
    /// writes nothing outside `buf`.
    pub(super) fn against_scalar(isa: Isa) {
        against(isa, scalar::apply);
    }

    /// [`against_scalar`] with any reference taking a key rotated to `buf[0]`.
    pub(super) fn against(isa: Isa, reference: fn(&mut [u8], [u8; 4])) {
        let longest = LONG_LENS.into_iter().max().unwrap_or(MAX_LEN);
        let original = noise(MAX_START + longest + 64, 7);
        let mut got = original.clone();
        let mut want = original.clone();
        for key in KEYS {
            for offset in 0..8 {
                for start in 0..=MAX_START {
                    for len in (0..=MAX_LEN).chain(LONG_LENS) {
                        got.copy_from_slice(&original);
                        want.copy_from_slice(&original);
                        assert!(apply_mask_with(
                            isa,
                            &mut got[start..start + len],
                            key,
                            offset
                        ));
                        reference(&mut want[start..start + len], rotated(key, offset));
                        assert!(
                            got == want,
                            "{isa:?} differs from the reference: key {key:?}, offset {offset}, start {start}, len {len}"
                        );
                    }
                }
            }
        }
    }

    /// Masking in pieces equals masking whole, and masking twice is the identity.
    pub(super) fn pieces_and_involution(isa: Isa) {
        let original = noise(5000, 11);
        for (round, key) in KEYS.into_iter().enumerate() {
            for first_offset in 0..4 {
                let mut whole = original.clone();
                assert!(apply_mask_with(isa, &mut whole, key, first_offset));

                let mut pieces = original.clone();
                let cuts = noise(64, round as u32 * 4 + first_offset as u32);
                let mut at = 0;
                for cut in cuts {
                    // Piece lengths 0..=255, so empty and SIMD-sized pieces both occur.
                    let end = (at + usize::from(cut)).min(pieces.len());
                    assert!(apply_mask_with(
                        isa,
                        &mut pieces[at..end],
                        key,
                        first_offset + at
                    ));
                    at = end;
                }
                assert!(apply_mask_with(
                    isa,
                    &mut pieces[at..],
                    key,
                    first_offset + at
                ));
                assert!(
                    whole == pieces,
                    "{isa:?}: pieces differ from whole, key {key:?}"
                );

                assert!(apply_mask_with(isa, &mut whole, key, first_offset));
                assert!(
                    whole == original,
                    "{isa:?}: masking twice is not the identity"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_starts_with_scalar_and_holds_selected() {
        let isas = Isa::available();
        assert_eq!(isas.first(), Some(&Isa::Scalar));
        assert!(isas.contains(&Isa::selected()));
        assert_eq!(Isa::selected(), Isa::selected());
    }

    #[test]
    fn selected_is_best_unless_forced() {
        let forced = cfg!(wsproto_force_scalar)
            || force_scalar(std::env::var_os(FORCE_SCALAR_ENV).as_deref());
        let want = if forced {
            Isa::Scalar
        } else {
            *Isa::available().last().unwrap()
        };
        assert_eq!(Isa::selected(), want);
    }

    #[test]
    fn force_scalar_values() {
        use std::ffi::OsStr;
        assert!(!force_scalar(None));
        assert!(!force_scalar(Some(OsStr::new(""))));
        assert!(!force_scalar(Some(OsStr::new("0"))));
        assert!(force_scalar(Some(OsStr::new("1"))));
        assert!(force_scalar(Some(OsStr::new("yes"))));
    }

    #[test]
    fn unavailable_isa_is_refused_and_untouched() {
        for isa in ALL {
            if !Isa::available().contains(&isa) {
                let mut buf = [9u8; 100];
                assert!(!apply_mask_with(isa, &mut buf, [1, 2, 3, 4], 0));
                assert_eq!(buf, [9u8; 100]);
            }
        }
    }

    #[test]
    fn rfc_6455_example() {
        // RFC 6455 §5.7: a masked "Hello" from client to server.
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for isa in Isa::available() {
            let mut buf = *b"Hello";
            assert!(apply_mask_with(isa, &mut buf, key, 0));
            assert_eq!(buf, [0x7f, 0x9f, 0x4d, 0x51, 0x58], "{isa:?}");
        }
    }

    #[test]
    fn selected_path_matches_scalar() {
        let mut got: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let mut want = got.clone();
        apply_mask(&mut got, [5, 6, 7, 8], 3);
        assert!(apply_mask_with(Isa::Scalar, &mut want, [5, 6, 7, 8], 3));
        assert_eq!(got, want);
    }

    #[test]
    fn offset_beyond_u32_wraps_by_four() {
        let mut a = [0u8; 9];
        let mut b = [0u8; 9];
        apply_mask(&mut a, [1, 2, 3, 4], usize::MAX);
        apply_mask(&mut b, [1, 2, 3, 4], 3);
        assert_eq!(a, b);
    }
}
