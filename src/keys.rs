//! Where client masking keys come from: a pluggable [`MaskKeySource`], by
//! default the operating system's random generator.

/// A source of 32-bit masking keys for client frames.
///
/// RFC 6455 §5.3: "The masking key needs to be unpredictable; thus, the
/// masking key MUST be derived from a strong source of entropy". Replace the
/// default only with a source that honours this, or for deterministic tests.
pub trait MaskKeySource: Send {
    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

/// Keys from the OS random generator (`getrandom`), fetched 256 at a time so
/// a frame does not cost a system call.
pub struct OsRandomKeys {
    pool: [u8; 1024],
    used: usize,
    /// Fallback state for the (practically impossible) case that the OS
    /// generator fails, so that sending never panics.
    fallback: u64,
}

impl Default for OsRandomKeys {
    fn default() -> Self {
        Self {
            pool: [0; 1024],
            used: 1024,
            fallback: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl std::fmt::Debug for OsRandomKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsRandomKeys").finish_non_exhaustive()
    }
}

impl MaskKeySource for OsRandomKeys {
    fn next_key(&mut self) -> [u8; 4] {
        if self.used + 4 > self.pool.len() {
            if getrandom::fill(&mut self.pool).is_err() {
                // splitmix64 over the previous pool: not a CSPRNG, but only
                // reachable if the kernel refuses to give entropy at all.
                for chunk in self.pool.chunks_mut(8) {
                    self.fallback = self.fallback.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = self.fallback;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes()[..chunk.len()]);
                }
            }
            self.used = 0;
        }
        let key = [
            self.pool[self.used],
            self.pool[self.used + 1],
            self.pool[self.used + 2],
            self.pool[self.used + 3],
        ];
        self.used += 4;
        key
    }
}

/// A fixed key, for tests and for reproducing captures. Never use it on a
/// real connection: predictable keys defeat the purpose of masking.
#[derive(Debug, Clone, Copy)]
pub struct FixedKey(pub [u8; 4]);

impl MaskKeySource for FixedKey {
    fn next_key(&mut self) -> [u8; 4] {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_keys_vary_and_refill() {
        let mut keys = OsRandomKeys::default();
        let all: Vec<[u8; 4]> = (0..1000).map(|_| keys.next_key()).collect();
        let distinct: std::collections::HashSet<_> = all.iter().collect();
        assert!(distinct.len() > 990);
    }
}
