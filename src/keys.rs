//! Where client masking keys come from: a pluggable [`MaskKeySource`], by
//! default [`OsRandomKeys`], a ChaCha20 generator seeded from the operating
//! system's random generator ([`OsRandomKeys`] says what happens when the
//! OS generator fails).

use std::hash::{BuildHasher, Hasher};

use chacha20::ChaCha20Rng;
use chacha20::rand_core::{Rng, SeedableRng};

/// A source of 32-bit masking keys for client frames.
///
/// RFC 6455 §5.3: "The masking key needs to be unpredictable; thus, the
/// masking key MUST be derived from a strong source of entropy". Replace the
/// default only with a source that honours this, or for deterministic tests.
///
/// ```
/// use wsproto::{Client, Config, MaskKeySource, Open};
///
/// /// Keys from a hardware generator, say.
/// struct MyKeys(u32);
/// impl MaskKeySource for MyKeys {
///     fn next_key(&mut self) -> [u8; 4] {
///         self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345); // not this, really
///         self.0.to_be_bytes()
///     }
/// }
///
/// let mut ws = Open::<Client>::new(Config::default(), Vec::new());
/// ws.set_mask_source(Box::new(MyKeys(1)));
/// ```
pub trait MaskKeySource: Send {
    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

/// The OS random generator could not give a seed, so no unpredictable key
/// can be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the OS random generator failed: {0}")]
pub struct RandomnessError(getrandom::Error);

/// Keys from ChaCha20 seeded once with 256 bits from the OS random
/// generator (`getrandom`): no system call per frame, and no failure after
/// construction.
///
/// # When the OS generator fails
///
/// RFC 6455 §5.3: "The masking key needs to be unpredictable; thus, the
/// masking key MUST be derived from a strong source of entropy", and §10.3
/// explains why (a proxy's cache can be poisoned by a client whose masks
/// its script can predict). So keys never come from a fixed seed:
///
/// - [`OsRandomKeys::new`] asks the OS for a 256-bit seed once and fails
///   with a [`RandomnessError`] if it cannot get one. After that, keys come
///   from ChaCha20 over that seed and nothing can fail any more: there is no
///   later refill that could run dry, so [`MaskKeySource::next_key`] stays
///   infallible without needing a fallback.
/// - The client handshake ([`Pending::<Client>::new`](crate::handshake::Pending))
///   builds one, takes the `Sec-WebSocket-Key` nonce from it, and installs it
///   as the open connection's mask source; if the OS generator fails, the
///   handshake fails with a [`HandshakeError`](crate::HandshakeError) of kind
///   [`Local`](crate::HandshakeErrorKind::Local) before a byte is written.
/// - [`OsRandomKeys::default`] exists for connections built without a
///   handshake ([`Open::new`](crate::Open::new)), which pick a source on
///   their first masked frame and cannot report an error there. It is
///   `new()` when the OS generator works; when it does not, the seed is drawn
///   from the standard library's per-thread hash keys (`RandomState`, which
///   std itself takes from the OS when the thread first hashes), so the keys
///   are still secret, never a constant sequence. Prefer `new` and
///   [`Open::set_mask_source`](crate::Open::set_mask_source) where the
///   failure can be handled.
pub struct OsRandomKeys {
    rng: ChaCha20Rng,
}

impl OsRandomKeys {
    /// A generator seeded from the OS.
    ///
    /// ```
    /// use wsproto::{MaskKeySource, OsRandomKeys};
    /// let mut keys = OsRandomKeys::new()?;
    /// let first: Vec<[u8; 4]> = (0..4).map(|_| keys.next_key()).collect();
    /// let second: Vec<[u8; 4]> = (0..4).map(|_| keys.next_key()).collect();
    /// assert_ne!(first, second);
    /// # Ok::<(), wsproto::RandomnessError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`RandomnessError`] when the OS random generator fails.
    pub fn new() -> Result<Self, RandomnessError> {
        let mut seed = [0u8; 32];
        os_fill(&mut seed).map_err(RandomnessError)?;
        Ok(Self::from_seed(seed))
    }

    fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            rng: ChaCha20Rng::from_seed(seed),
        }
    }

    /// Fills `out` from the generator (the handshake's nonce).
    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        self.rng.fill_bytes(out);
    }
}

impl Default for OsRandomKeys {
    /// [`OsRandomKeys::new`], or when the OS generator fails, a generator
    /// seeded from std's per-thread secret hash keys (see
    /// [`OsRandomKeys`]).
    fn default() -> Self {
        Self::new().unwrap_or_else(|_| Self::from_seed(std_hash_seed()))
    }
}

/// 256 bits from SipHash under std's per-thread secret keys, which std draws
/// from the OS when the thread first builds a `RandomState`.
fn std_hash_seed() -> [u8; 32] {
    let state = std::collections::hash_map::RandomState::new();
    let mut seed = [0u8; 32];
    for (i, chunk) in seed.chunks_mut(8).enumerate() {
        let mut hasher = state.build_hasher();
        hasher.write_usize(i);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    seed
}

impl std::fmt::Debug for OsRandomKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsRandomKeys").finish_non_exhaustive()
    }
}

impl MaskKeySource for OsRandomKeys {
    fn next_key(&mut self) -> [u8; 4] {
        self.rng.next_u32().to_le_bytes()
    }
}

/// `getrandom::fill`, or a failure while a test simulates one.
fn os_fill(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    #[cfg(test)]
    if test_hook::FAIL.with(std::cell::Cell::get) {
        return Err(getrandom::Error::UNSUPPORTED);
    }
    getrandom::fill(buf)
}

/// Simulates a failing OS random generator, on the calling thread only.
#[cfg(test)]
pub(crate) mod test_hook {
    std::thread_local! {
        pub(crate) static FAIL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Runs `f` with the OS random generator failing on this thread.
    pub(crate) fn without_os_randomness<T>(f: impl FnOnce() -> T) -> T {
        FAIL.with(|fail| fail.set(true));
        let out = f();
        FAIL.with(|fail| fail.set(false));
        out
    }
}

/// A fixed key, for tests and for reproducing captures. Never use it on a
/// real connection: predictable keys defeat the purpose of masking.
///
/// ```
/// use wsproto::{Client, Config, FixedKey, Open};
///
/// let mut ws = Open::<Client>::new(Config::default(), Vec::new());
/// ws.set_mask_source(Box::new(FixedKey([1, 2, 3, 4])));
/// ws.send_binary(&[0, 0])?;
/// assert_eq!(&ws.take_outgoing()[..], [0x82, 0x82, 1, 2, 3, 4, 1, 2]);
/// # Ok::<(), wsproto::LocalError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FixedKey(pub [u8; 4]);

impl MaskKeySource for FixedKey {
    fn next_key(&mut self) -> [u8; 4] {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::test_hook::without_os_randomness;
    use super::*;

    fn keys(source: &mut impl MaskKeySource, n: usize) -> Vec<[u8; 4]> {
        (0..n).map(|_| source.next_key()).collect()
    }

    #[test]
    fn os_keys_vary() {
        let mut source = OsRandomKeys::new().unwrap();
        let all = keys(&mut source, 1000);
        let distinct: std::collections::HashSet<_> = all.iter().collect();
        assert!(distinct.len() > 990);
    }

    #[test]
    fn new_fails_without_os_randomness() {
        let err = without_os_randomness(OsRandomKeys::new).unwrap_err();
        assert!(err.to_string().contains("OS random generator"), "{err}");
        assert!(OsRandomKeys::new().is_ok());
    }

    /// The old fallback was a constant-seeded splitmix64: two sources made
    /// while the OS failed gave the same keys. Now each is secret and
    /// distinct.
    #[test]
    fn default_without_os_randomness_is_not_a_fixed_sequence() {
        let (a, b) = without_os_randomness(|| {
            let mut a = OsRandomKeys::default();
            let mut b = OsRandomKeys::default();
            (keys(&mut a, 64), keys(&mut b, 64))
        });
        assert_ne!(a, b);
        // Nor the sequence the old constant seed produced.
        let mut z: u64 = 0x9E37_79B9_7F4A_7C15;
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let old_first: [u8; 4] = (z ^ (z >> 31)).to_le_bytes()[..4].try_into().unwrap();
        assert_ne!(a[0], old_first);
        assert_ne!(b[0], old_first);
    }

    /// ChaCha20 with the all-zero key and nonce (RFC 8439 §A.1, test
    /// vector 1): the generator is the cipher it claims to be.
    #[test]
    fn the_generator_is_chacha20() {
        let mut source = OsRandomKeys::from_seed([0; 32]);
        let mut block = [0u8; 8];
        source.fill(&mut block);
        assert_eq!(block, [0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90]);
    }
}
