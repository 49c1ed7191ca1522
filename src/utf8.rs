//! UTF-8 validation of text message payloads, whole or arriving in pieces.
//!
//! A text message may be split across fragments (RFC 6455 §5.4), and each fragment's payload may
//! itself arrive across several reads, so a code point can be cut anywhere. [`Utf8Validator`]
//! carries the at most 3 bytes of an unfinished code point from one piece to the next, and
//! reports an error on the first piece that makes the stream impossible to complete validly —
//! not only at the end of the message. Autobahn 6.4.x checks this "fail fast" behaviour.
//!
//! The bulk of each piece is checked by `simdutf8::basic`, in one pass. A code point cut at the
//! end of a piece is recognised from its lead byte and set aside *before* that pass, and the few
//! bytes around a cut are checked with `std::str::from_utf8`, whose `error_len()` tells "cannot
//! be completed" (fail now) from "needs more bytes" (carry). So a piece costs one SIMD pass
//! whether or not it ends inside a code point, and `simdutf8::compat` is only used to word the
//! error of [`validate`].
//!
//! # Examples
//!
//! ```
//! use wsproto::utf8::Utf8Validator;
//!
//! let mut validator = Utf8Validator::new();
//! // "é" (0xC3 0xA9) split across two pieces.
//! validator.feed(b"caf\xC3").unwrap();
//! assert_eq!(validator.pending_len(), 1);
//! validator.feed(b"\xA9!").unwrap();
//! validator.finish().unwrap();
//!
//! // A surrogate prefix can never be completed: fail on this piece, not at the end.
//! assert!(validator.feed(b"ok \xED\xA0").is_err());
//! ```

// `Utf8Bytes::as_str` and `validated_str` convert without a second check
// (see their SAFETY comments).
#![allow(unsafe_code)]

use std::fmt;

use bytes::Bytes;

/// The text is not valid UTF-8.
///
/// RFC 6455 §8.1 requires the connection to be failed; the caller maps this to close code 1007
/// (invalid frame payload data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error {
    incomplete: bool,
}

impl Utf8Error {
    const INVALID: Self = Self { incomplete: false };
    const INCOMPLETE: Self = Self { incomplete: true };

    /// Whether the text ended in the middle of a code point (as opposed to containing a byte
    /// that no continuation could make valid).
    ///
    /// ```
    /// use wsproto::utf8::Utf8Validator;
    ///
    /// let mut v = Utf8Validator::new();
    /// v.feed("é".as_bytes().split_at(1).0)?; // half a code point: fine so far
    /// let err = v.finish().unwrap_err(); // but the message ends there
    /// assert!(err.is_incomplete());
    /// # Ok::<(), wsproto::utf8::Utf8Error>(())
    /// ```
    #[must_use]
    pub const fn is_incomplete(&self) -> bool {
        self.incomplete
    }
}

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.incomplete {
            f.write_str("text ends in the middle of a UTF-8 code point")
        } else {
            f.write_str("text is not valid UTF-8")
        }
    }
}

impl std::error::Error for Utf8Error {}

/// Validates a complete text in one go.
///
/// This is the path for a text message that arrived whole: a single `simdutf8` call.
///
/// # Errors
///
/// Returns [`Utf8Error`] if `bytes` is not valid UTF-8, including when it ends in the middle of
/// a code point.
///
/// # Examples
///
/// ```
/// assert!(wsproto::utf8::validate("κόσμε".as_bytes()).is_ok());
/// assert!(wsproto::utf8::validate(b"\xF4\x90\x80\x80").is_err());
/// ```
#[inline]
pub fn validate(bytes: &[u8]) -> Result<(), Utf8Error> {
    // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the
    // byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
    // Connection_."
    // Short text is mostly ASCII, and simdutf8 hands inputs under its SIMD
    // chunk to `core::str::from_utf8`, whose setup costs more than a
    // word-at-a-time ASCII test (callgrind: 118 instructions per 16-byte
    // message before, 40 after).
    if bytes.len() < SIMD_CHUNK_SIZE && bytes.is_ascii() {
        return Ok(());
    }
    match simdutf8::basic::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(_) => Err(invalid_or_incomplete(bytes)),
    }
}

/// Inputs shorter than this are not validated with SIMD by simdutf8
/// (its `SIMD_CHUNK_SIZE`).
const SIMD_CHUNK_SIZE: usize = 64;

/// The text of bytes the decoder has already validated (a borrowed text
/// message, `EventRef::Text`), without a second check.
pub(crate) fn validated_str(bytes: &[u8]) -> &str {
    debug_assert!(
        std::str::from_utf8(bytes).is_ok(),
        "validated_str: not UTF-8"
    );
    // SAFETY: crate-private, and its one caller (`emit_ref` in
    // `conn/recv.rs`) passes the payload of a whole single-frame text
    // message whose UTF-8 check passed: `scan` validated every byte of it
    // as it was unmasked and `Utf8Validator::finish` found no character cut
    // at its end (asserted in debug builds). The bytes are borrowed
    // immutably for as long as the `str` lives.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// Tells apart the two ways a complete text can fail, for the error message only.
#[cold]
fn invalid_or_incomplete(bytes: &[u8]) -> Utf8Error {
    match simdutf8::compat::from_utf8(bytes) {
        Err(error) if error.error_len().is_none() => Utf8Error::INCOMPLETE,
        _ => Utf8Error::INVALID,
    }
}

/// Marks a validator that has already reported an error; see [`Utf8Validator::feed`].
///
/// It is stored in `carried_len`, so the hot path (`carried_len == 0`) pays nothing for it.
const POISONED: u8 = u8::MAX;

/// Streaming UTF-8 validator for a text message that arrives in pieces.
///
/// Call [`feed`](Self::feed) with each piece in order, then [`finish`](Self::finish) at the end
/// of the message. Between pieces it keeps only the tail of an unfinished code point (at most 3
/// bytes), so memory use does not depend on the message size.
///
/// After `feed` has returned an error, every later `feed` and `finish` returns an error too,
/// until [`reset`](Self::reset) or `finish` starts a new message.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// The start of an unfinished code point, in `carried[..carried_len]`. One byte larger than
    /// needed so a code point can be completed in place.
    carried: [u8; 4],
    /// Number of valid bytes in `carried` (0..=3), or [`POISONED`].
    carried_len: u8,
}

impl Utf8Validator {
    /// Creates a validator for a new message.
    ///
    /// ```
    /// use wsproto::utf8::Utf8Validator;
    ///
    /// let mut v = Utf8Validator::new();
    /// v.feed(b"hello")?;
    /// v.finish()?;
    /// # Ok::<(), wsproto::utf8::Utf8Error>(())
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            carried: [0; 4],
            carried_len: 0,
        }
    }

    /// Validates the next piece of the message.
    ///
    /// A code point cut at the end of `piece` is carried over and completed by the following
    /// pieces, however small they are. The error is reported on the first piece containing a
    /// byte that no continuation could make valid — for example a piece ending in `0xED 0xA0`
    /// (the start of a surrogate) or `0xF4 0x90` (beyond U+10FFFF) fails at once.
    /// ```
    /// use wsproto::utf8::Utf8Validator;
    ///
    /// let mut v = Utf8Validator::new();
    /// for piece in [&b"h\xc3"[..], b"\xa9llo"] { // "héllo", cut inside the é
    ///     v.feed(piece)?;
    /// }
    /// v.finish()?;
    /// assert!(v.feed(b"\xed\xa0").is_err()); // a surrogate fails at once
    /// # Ok::<(), wsproto::utf8::Utf8Error>(())
    /// ```
    ///
    ///
    /// # Errors
    ///
    /// Returns [`Utf8Error`] if the message so far cannot be the start of valid UTF-8, or if an
    /// earlier call already failed.
    #[inline]
    pub fn feed(&mut self, piece: &[u8]) -> Result<(), Utf8Error> {
        if self.carried_len == 0 {
            self.feed_from_boundary(piece)
        } else {
            self.feed_after_carried(piece)
        }
    }

    /// Validates a piece that starts on a code point boundary: the hot path.
    #[inline]
    fn feed_from_boundary(&mut self, piece: &[u8]) -> Result<(), Utf8Error> {
        // A piece ending in ASCII cannot end inside a code point, so it needs exactly one `basic`
        // call. Keeping this branch apart from the tail arithmetic measurably helps short
        // messages (a few percent of a 16-byte validation).
        if let [.., 0x80..=0xFF] = piece {
            return self.feed_non_ascii_end(piece);
        }
        // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that
        // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
        // WebSocket Connection_."
        if simdutf8::basic::from_utf8(piece).is_err() {
            return Err(self.poison());
        }
        Ok(())
    }

    /// Validates a piece that starts on a code point boundary and ends in a non-ASCII byte,
    /// possibly inside a code point.
    ///
    /// The cut code point is split off *before* the SIMD pass rather than diagnosed after it
    /// (`basic` fails, then `compat` finds where): a network read ends inside a code point
    /// often enough in non-ASCII text that a second pass over each such piece would show (it
    /// made CJK text fed in 4 KiB pieces 1.7x slower than one pass).
    #[inline]
    fn feed_non_ascii_end(&mut self, piece: &[u8]) -> Result<(), Utf8Error> {
        let (complete, tail) = piece.split_at(piece.len() - cut_tail_len(piece));
        // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that
        // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
        // WebSocket Connection_." `complete` cannot end inside a code point (see
        // `cut_tail_len`), so a failure here is invalid data, not a cut.
        if simdutf8::basic::from_utf8(complete).is_err() {
            return Err(self.poison());
        }
        if tail.is_empty() {
            return Ok(());
        }
        self.carry_tail(tail)
    }

    /// Carries the 1–3 byte `tail` of a piece whose lead byte announces a longer sequence, if
    /// it can still be completed.
    #[cold]
    #[inline(never)]
    fn carry_tail(&mut self, tail: &[u8]) -> Result<(), Utf8Error> {
        // std's `error_len() == None` means "unexpected end of input": the bytes are a prefix
        // that some continuation can complete. It already rejects prefixes such as 0xE0 0x80
        // (overlong), 0xED 0xA0 (surrogate) or 0xF4 0x90 (above U+10FFFF), and leads 0xC0, 0xC1,
        // 0xF5..=0xFF, which is exactly the "fail fast" rule.
        match std::str::from_utf8(tail) {
            Err(error) if error.error_len().is_none() => {
                self.carried[..tail.len()].copy_from_slice(tail);
                // `cut_tail_len` returns at most 3.
                self.carried_len = tail.len() as u8;
                Ok(())
            }
            // RFC 6455 §8.1, as in `feed_non_ascii_end`.
            _ => Err(self.poison()),
        }
    }

    /// Completes the carried code point with the first bytes of `piece`, then validates the
    /// rest, which starts on a code point boundary.
    #[cold]
    #[inline(never)]
    fn feed_after_carried(&mut self, piece: &[u8]) -> Result<(), Utf8Error> {
        if self.carried_len == POISONED {
            return Err(Utf8Error::INVALID);
        }
        let carried_len = usize::from(self.carried_len);
        let needed = sequence_len(self.carried[0]) - carried_len;
        let taken = needed.min(piece.len());
        let candidate_len = carried_len + taken;
        self.carried[carried_len..candidate_len].copy_from_slice(&piece[..taken]);
        // At most 4 bytes: std is as fast as anything here, and its error tells a prefix that can
        // still be completed (`error_len() == None`) from one that cannot.
        match std::str::from_utf8(&self.carried[..candidate_len]) {
            Ok(_) => {
                self.carried_len = 0;
                self.feed_from_boundary(&piece[taken..])
            }
            // Only possible when `piece` ran out (`taken < needed`): a full-length sequence is
            // either valid or invalid, never incomplete.
            Err(error) if error.error_len().is_none() => {
                self.carried_len = candidate_len as u8;
                Ok(())
            }
            // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds
            // that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
            // _Fail the WebSocket Connection_."
            Err(_) => Err(self.poison()),
        }
    }

    /// Remembers the failure so that later pieces cannot hide it.
    #[cold]
    #[inline(never)]
    fn poison(&mut self) -> Utf8Error {
        self.carried_len = POISONED;
        Utf8Error::INVALID
    }

    /// Whether the message so far ends on a code point boundary and has not
    /// failed: bytes that follow may then be checked on their own.
    pub(crate) const fn at_boundary(&self) -> bool {
        self.carried_len == 0
    }

    /// Number of bytes carried over: the tail of the message so far that is an unfinished (but
    /// still possibly valid) code point, 0..=3.
    ///
    /// ```
    /// use wsproto::utf8::Utf8Validator;
    ///
    /// let mut v = Utf8Validator::new();
    /// v.feed(&"€".as_bytes()[..2])?;
    /// assert_eq!(v.pending_len(), 2); // waiting for the third byte of the €
    /// v.feed(&"€".as_bytes()[2..])?;
    /// assert_eq!(v.pending_len(), 0);
    /// # Ok::<(), wsproto::utf8::Utf8Error>(())
    /// ```
    ///
    /// The message so far, minus its last `pending_len()` bytes, is complete valid UTF-8. After
    /// an error this is 0.
    #[must_use]
    pub fn pending_len(&self) -> usize {
        if self.carried_len == POISONED {
            0
        } else {
            usize::from(self.carried_len)
        }
    }

    /// Ends the message and resets the validator for the next one.
    ///
    /// ```
    /// use wsproto::utf8::Utf8Validator;
    ///
    /// let mut v = Utf8Validator::new();
    /// v.feed(b"complete")?;
    /// v.finish()?; // ready for the next message
    /// v.feed(b"\xe2\x82")?;
    /// assert!(v.finish().is_err()); // cut inside a code point
    /// # Ok::<(), wsproto::utf8::Utf8Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Utf8Error`] if the message ends in the middle of a code point, or if an earlier
    /// [`feed`](Self::feed) failed. The validator is reset either way.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let carried_len = self.carried_len;
        self.reset();
        match carried_len {
            0 => Ok(()),
            POISONED => Err(Utf8Error::INVALID),
            // RFC 6455 §8.1 (see `feed`): a message cut inside a code point is not valid UTF-8.
            _ => Err(Utf8Error::INCOMPLETE),
        }
    }

    /// Forgets the current message, including an earlier error.
    ///
    /// ```
    /// use wsproto::utf8::Utf8Validator;
    ///
    /// let mut v = Utf8Validator::new();
    /// assert!(v.feed(b"\xff").is_err());
    /// assert!(v.feed(b"ok").is_err()); // the error sticks
    /// v.reset();
    /// v.feed(b"ok")?;
    /// # Ok::<(), wsproto::utf8::Utf8Error>(())
    /// ```
    pub fn reset(&mut self) {
        self.carried_len = 0;
    }
}

/// Number of bytes at the end of `piece` that start a code point but are too few to finish it,
/// judged by the lead byte alone (0..=3).
///
/// When it returns 0, `piece` cannot end inside a valid code point: either the last byte is
/// ASCII, or the last lead byte's sequence is complete, or there are more continuation bytes than
/// any lead allows — which is invalid whatever follows. So a validity failure of the rest is never
/// a cut. The returned tail itself may still be invalid (0xC0, 0xF5, 0xE0 0x80, ...); the caller
/// checks it.
#[inline]
fn cut_tail_len(piece: &[u8]) -> usize {
    // The last three bytes, with missing ones read as ASCII (which never starts a cut).
    let (a, b, c) = match *piece {
        // Most text ends in ASCII; leave before touching more bytes.
        [] | [.., 0..=0x7F] => return 0,
        [.., a, b, c] => (a, b, c),
        [b, c] => (0, b, c),
        [c] => (0, 0, c),
    };
    let is_continuation = |byte: u8| byte & 0xC0 == 0x80;
    // The three cases exclude one another (they disagree on whether `c`, then `b`, is a
    // continuation byte), so they can be summed; no branches on the hot path.
    let lead_of_2_or_more_at_c = c >= 0xC0;
    let lead_of_3_or_more_at_b = (b >= 0xE0) & is_continuation(c);
    let lead_of_4_at_a = (a >= 0xF0) & is_continuation(b) & is_continuation(c);
    usize::from(lead_of_2_or_more_at_c)
        + 2 * usize::from(lead_of_3_or_more_at_b)
        + 3 * usize::from(lead_of_4_at_a)
}

/// Length of the UTF-8 sequence announced by a carried lead byte, which is 0xC2..=0xF4 because
/// std accepted it as the start of a valid prefix.
const fn sequence_len(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        _ => 2,
    }
}

/// Bytes known to be valid UTF-8: a cheaply clonable, zero-copy `str`.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes that the caller has already validated.
    ///
    /// Every caller has checked `bytes` (the close reason with [`validate`],
    /// message payloads with the connection's [`Utf8Validator`]); the
    /// assertion re-checks that in every test and fuzz build, because
    /// [`as_str`](Self::as_str) relies on it.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// Validates `bytes` as UTF-8.
    /// ```
    /// use bytes::Bytes;
    /// use wsproto::Utf8Bytes;
    ///
    /// let text = Utf8Bytes::try_from_bytes(Bytes::from_static(b"ok"))?;
    /// assert_eq!(text, "ok");
    /// assert!(Utf8Bytes::try_from_bytes(Bytes::from_static(b"\xff")).is_err());
    /// # Ok::<(), Bytes>(())
    /// ```
    ///
    ///
    /// # Errors
    ///
    /// Returns the bytes back if they are not valid UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        match validate(&bytes) {
            Ok(()) => Ok(Self(bytes)),
            Err(_) => Err(bytes),
        }
    }

    /// The text. Free: the bytes were checked once, when they arrived.
    ///
    /// ```
    /// use wsproto::Utf8Bytes;
    ///
    /// let text = Utf8Bytes::from("hello");
    /// assert_eq!(text.as_str(), "hello");
    /// assert!(text.starts_with("he")); // it also derefs to str
    /// ```
    pub fn as_str(&self) -> &str {
        // SAFETY: every way to build a `Utf8Bytes` guarantees UTF-8:
        // `try_from_bytes` validates, `From<&str>` and `From<String>` start
        // from a `str`, `Default` is empty, and `from_validated` is
        // crate-private with validated input at each call (asserted in debug
        // builds). The bytes are immutable behind `Bytes`, so they stay valid.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    ///
    /// ```
    /// use wsproto::Utf8Bytes;
    ///
    /// assert_eq!(&Utf8Bytes::from("hi").as_bytes()[..], b"hi");
    /// ```
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the underlying bytes.
    ///
    /// ```
    /// use wsproto::Utf8Bytes;
    ///
    /// let bytes: bytes::Bytes = Utf8Bytes::from("hi").into_bytes(); // no copy
    /// assert_eq!(&bytes[..], b"hi");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The length in bytes.
    ///
    /// ```
    /// use wsproto::Utf8Bytes;
    ///
    /// assert_eq!(Utf8Bytes::from("née").len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    ///
    /// ```
    /// use wsproto::Utf8Bytes;
    ///
    /// assert!(Utf8Bytes::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `pieces` in order and returns the index of the piece that failed, or `None` if all
    /// succeeded. Also checks the `pending_len` invariant against std after each success.
    fn failing_piece(validator: &mut Utf8Validator, pieces: &[&[u8]]) -> Option<usize> {
        let mut so_far = Vec::new();
        for (index, piece) in pieces.iter().enumerate() {
            so_far.extend_from_slice(piece);
            if validator.feed(piece).is_err() {
                assert_eq!(validator.pending_len(), 0);
                return Some(index);
            }
            let pending = validator.pending_len();
            assert!(pending <= 3);
            match std::str::from_utf8(&so_far) {
                Ok(_) => assert_eq!(pending, 0, "stream {so_far:02X?}"),
                Err(error) => {
                    assert_eq!(error.error_len(), None, "accepted invalid {so_far:02X?}");
                    assert_eq!(
                        error.valid_up_to(),
                        so_far.len() - pending,
                        "stream {so_far:02X?}"
                    );
                }
            }
        }
        None
    }

    /// Index of the first byte of `whole` after which no continuation can make it valid UTF-8,
    /// or `None` if it is valid or merely cut short at its end.
    fn first_impossible_byte(whole: &[u8]) -> Option<usize> {
        let error = std::str::from_utf8(whole).err()?;
        let error_len = error.error_len()?;
        let start = error.valid_up_to();
        // std counts the longest valid prefix as the invalid sequence; the byte after it is what
        // made it impossible. A byte that cannot start a sequence at all is impossible itself.
        Some(match whole[start] {
            0xC2..=0xF4 => start + error_len,
            _ => start,
        })
    }

    /// The index of the piece containing byte `byte` of the concatenation.
    fn piece_containing(pieces: &[&[u8]], byte: usize) -> usize {
        let mut end = 0;
        for (index, piece) in pieces.iter().enumerate() {
            end += piece.len();
            if byte < end {
                return index;
            }
        }
        panic!("byte {byte} past the end");
    }

    /// Runs `pieces` through a fresh validator and checks every property against std.
    fn check_against_std(pieces: &[&[u8]]) {
        let whole = pieces.concat();
        let mut validator = Utf8Validator::new();
        let failed_at = failing_piece(&mut validator, pieces);
        let expected = first_impossible_byte(&whole).map(|byte| piece_containing(pieces, byte));
        assert_eq!(failed_at, expected, "pieces {pieces:02X?}");
        let finished = validator.finish();
        assert_eq!(finished.is_ok(), std::str::from_utf8(&whole).is_ok());
        assert_eq!(finished.is_ok(), validate(&whole).is_ok());
        // `finish` resets: the validator is usable for the next message.
        assert_eq!(validator.pending_len(), 0);
        assert!(validator.feed(b"next").is_ok());
        assert!(validator.finish().is_ok());
    }

    /// Splits `bytes` at the given sorted, deduplicated cut positions.
    fn split_at_cuts<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut pieces = Vec::new();
        let mut start = 0;
        for &cut in cuts {
            pieces.push(&bytes[start..cut]);
            start = cut;
        }
        pieces.push(&bytes[start..]);
        pieces
    }

    /// Every way to cut `bytes` into non-empty pieces (2^(len-1) of them).
    fn every_split(bytes: &[u8]) -> impl Iterator<Item = Vec<&[u8]>> {
        let gaps = bytes.len().saturating_sub(1);
        (0u32..1 << gaps).map(move |mask| {
            let cuts: Vec<usize> = (0..gaps)
                .filter(|gap| mask & (1 << gap) != 0)
                .map(|gap| gap + 1)
                .collect();
            split_at_cuts(bytes, &cuts)
        })
    }

    /// Pieces fed in order, the index of the piece that must fail, whether `finish` succeeds.
    type Case = (&'static [&'static [u8]], Option<usize>, bool);

    #[test]
    fn table() {
        let cases: &[Case] = &[
            (&[], None, true),
            (&[b""], None, true),
            (&[b"", b"", b""], None, true),
            (&[b"hello"], None, true),
            // "κόσμε"
            (&[b"\xCE\xBA\xCF\x8C\xCF\x83\xCE\xBC\xCE\xB5"], None, true),
            // Split code points are carried.
            (&[b"\xC3", b"\xA9"], None, true),
            (&[b"\xE2\x82", b"\xAC"], None, true),
            (&[b"\xF0", b"\x9F", b"\x98", b"\x80"], None, true),
            (&[b"a\xF0\x9F", b"", b"\x98\x80b"], None, true),
            // Incomplete at the end: feeds pass, finish fails.
            (&[b"a\xC3"], None, false),
            (&[b"\xF0\x9F\x98"], None, false),
            (&[b"\xF0", b"\x9F", b"\x98"], None, false),
            // Fail fast at the end of a piece.
            (&[b"ab\xED\xA0"], Some(0), false),
            (&[b"ab\xF4\x90"], Some(0), false),
            (&[b"ab\xE0\x80"], Some(0), false),
            (&[b"ab\xF0\x80"], Some(0), false),
            (&[b"ab\xF5"], Some(0), false),
            (&[b"ab\xC0"], Some(0), false),
            (&[b"ab\xC1"], Some(0), false),
            (&[b"ab\xFF"], Some(0), false),
            (&[b"ab\x80"], Some(0), false),
            // Fail fast when the impossible byte completes a carried prefix.
            (&[b"ab\xED", b"\xA0"], Some(1), false),
            (&[b"ab\xF4", b"\x90"], Some(1), false),
            (&[b"ab\xE0", b"\x80"], Some(1), false),
            (&[b"ab\xF0", b"\x8F"], Some(1), false),
            (&[b"\xF0", b"\x9F", b"A"], Some(2), false),
            (&[b"\xF0\x9F\x98", b"A"], Some(1), false),
            (&[b"\xC3", b"\xC3"], Some(1), false),
            // Invalid in the middle of a piece after a completed carried code point.
            (&[b"\xC3", b"\xA9ok\xFFok"], Some(1), false),
            // Still valid boundaries of the ranges.
            (&[b"\xED", b"\x9F\xBF"], None, true),
            (&[b"\xF4", b"\x8F", b"\xBF\xBF"], None, true),
            (&[b"\xE0", b"\xA0\x80"], None, true),
            (&[b"\xF0\x90", b"\x80\x80"], None, true),
            (&[b"\xC2\x80"], None, true),
        ];
        for &(pieces, failing, finish_ok) in cases {
            let mut validator = Utf8Validator::new();
            assert_eq!(
                failing_piece(&mut validator, pieces),
                failing,
                "pieces {pieces:02X?}"
            );
            assert_eq!(
                validator.finish().is_ok(),
                finish_ok,
                "pieces {pieces:02X?}"
            );
            check_against_std(pieces);
        }
    }

    #[test]
    fn error_kinds() {
        let mut validator = Utf8Validator::new();
        validator.feed(b"\xE2\x82").unwrap();
        let error = validator.finish().unwrap_err();
        assert!(error.is_incomplete());
        assert_eq!(
            error.to_string(),
            "text ends in the middle of a UTF-8 code point"
        );

        let error = validator.feed(b"\xFF").unwrap_err();
        assert!(!error.is_incomplete());
        assert_eq!(error.to_string(), "text is not valid UTF-8");

        assert!(validate(b"\xE2\x82").unwrap_err().is_incomplete());
        assert!(!validate(b"\xE2\x82A").unwrap_err().is_incomplete());
        assert!(validate(b"").is_ok());
    }

    #[test]
    fn stays_failed_until_reset() {
        let mut validator = Utf8Validator::new();
        assert!(validator.feed(b"\xF4\x90").is_err());
        assert_eq!(validator.pending_len(), 0);
        // Later valid pieces must not hide the error.
        assert!(validator.feed(b"\x80\x80").is_err());
        assert!(validator.feed(b"fine").is_err());
        assert!(validator.finish().is_err());
        // `finish` reset it.
        assert!(validator.feed(b"fine").is_ok());
        assert!(validator.feed(b"\xFF").is_err());
        validator.reset();
        assert!(validator.feed(b"\xC3").is_ok());
        validator.reset();
        assert_eq!(validator.pending_len(), 0);
        assert!(validator.finish().is_ok());
    }

    /// Autobahn 6.4.1–6.4.4: "κόσμε", then U+110000 encoded as 0xF4 0x90 0x80 0x80, then
    /// "edited". The peer must fail on the piece with 0xF4 0x90, before the rest arrives.
    /// 6.4.1/6.4.2 deliver the parts as fragments, 6.4.3/6.4.4 as chops of one frame; either
    /// way the validator sees the same pieces.
    #[test]
    fn autobahn_6_4() {
        const KOSME: &[u8] = b"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5";
        // Autobahn's "κόσμε" spells its ό as U+1F79 (with oxia), not U+03CC.
        assert_eq!(KOSME, "\u{3BA}\u{1F79}\u{3C3}\u{3BC}\u{3B5}".as_bytes());
        // 6.4.1 and 6.4.3: the invalid code point whole in the second part.
        let parts: [&[u8]; 3] = [KOSME, b"\xF4\x90\x80\x80", b"edited"];
        let mut validator = Utf8Validator::new();
        assert_eq!(failing_piece(&mut validator, &parts), Some(1));
        // 6.4.2 and 6.4.4: 0xF4 ends the first part, 0x90 alone is the second.
        let mut first = KOSME.to_vec();
        first.push(0xF4);
        let parts: [&[u8]; 3] = [&first, b"\x90", b"\x80\x80edited"];
        let mut validator = Utf8Validator::new();
        assert_eq!(failing_piece(&mut validator, &parts), Some(1));
        // 6.4.x with 1-byte pieces: fail exactly at 0x90.
        let whole = [KOSME, b"\xF4\x90\x80\x80edited"].concat();
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        let mut validator = Utf8Validator::new();
        assert_eq!(failing_piece(&mut validator, &bytes), Some(KOSME.len() + 1));
    }

    /// Every code point, cut into pieces in every possible way, between ASCII neighbours.
    #[test]
    fn every_code_point_every_split() {
        let mut buf = [0u8; 4];
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let encoded = c.encode_utf8(&mut buf).as_bytes();
            for pieces in every_split(encoded) {
                let mut validator = Utf8Validator::new();
                assert!(validator.feed(b"a").is_ok());
                for (index, piece) in pieces.iter().enumerate() {
                    assert!(validator.feed(piece).is_ok(), "{c:?} {pieces:02X?}");
                    let expected = if index + 1 == pieces.len() {
                        0
                    } else {
                        pieces[..=index].iter().map(|piece| piece.len()).sum()
                    };
                    assert_eq!(validator.pending_len(), expected, "{c:?} {pieces:02X?}");
                }
                assert!(validator.feed(b"b").is_ok());
                assert!(validator.finish().is_ok(), "{c:?} {pieces:02X?}");
            }
        }
    }

    /// Surrogates (U+D800..=U+DFFF, "encoded" as 0xED 0xA0..=0xBF 0x80..=0xBF) are invalid, and
    /// detected as soon as the second byte arrives.
    #[test]
    fn surrogates() {
        for second in 0xA0..=0xBF {
            for third in 0x80..=0xBF {
                let encoded = [0xED, second, third];
                for pieces in every_split(&encoded) {
                    check_against_std(&pieces);
                }
                let mut validator = Utf8Validator::new();
                assert!(validator.feed(&[0xED]).is_ok());
                assert!(validator.feed(&[second]).is_err());
            }
        }
    }

    /// Overlong encodings: 0xC0/0xC1 leads, 0xE0 0x80..=0x9F, 0xF0 0x80..=0x8F.
    #[test]
    fn overlongs() {
        let overlong: &[&[u8]] = &[
            b"\xC0\x80",
            b"\xC0\xAF",
            b"\xC1\xBF",
            b"\xE0\x80\x80",
            b"\xE0\x80\xAF",
            b"\xE0\x9F\xBF",
            b"\xF0\x80\x80\x80",
            b"\xF0\x80\x80\xAF",
            b"\xF0\x8F\xBF\xBF",
        ];
        for encoded in overlong {
            for pieces in every_split(encoded) {
                check_against_std(&pieces);
            }
            // The first two bytes already decide it.
            let mut validator = Utf8Validator::new();
            assert!(validator.feed(&encoded[..2]).is_err(), "{encoded:02X?}");
        }
    }

    /// Above U+10FFFF: 0xF4 0x90.., and leads 0xF5..=0xFF.
    #[test]
    fn above_max() {
        let too_big: &[&[u8]] = &[
            b"\xF4\x90\x80\x80",
            b"\xF4\xBF\xBF\xBF",
            b"\xF5\x80\x80\x80",
            b"\xF7\xBF\xBF\xBF",
            b"\xF8\x88\x80\x80\x80",
            b"\xFC\x84\x80\x80\x80\x80",
            b"\xFE",
            b"\xFF",
        ];
        for encoded in too_big {
            for pieces in every_split(encoded) {
                check_against_std(&pieces);
            }
        }
        for lead in 0xF5..=0xFF {
            let mut validator = Utf8Validator::new();
            assert!(validator.feed(&[lead]).is_err());
            let mut validator = Utf8Validator::new();
            assert!(validator.feed(b"ok").is_ok());
            assert!(validator.feed(&[lead]).is_err());
        }
    }

    /// Every sequence of up to 2 bytes, after a carried lead byte or not, in every split.
    #[test]
    fn exhaustive_short_sequences() {
        for first in 0..=0xFFu8 {
            check_against_std(&[&[first]]);
            for second in 0..=0xFFu8 {
                let bytes = [first, second];
                for pieces in every_split(&bytes) {
                    check_against_std(&pieces);
                }
            }
        }
    }

    /// One byte of each class that UTF-8 treats differently: ASCII, continuation ranges that
    /// matter after 0xE0/0xED/0xF0/0xF4, never-valid leads, and each lead range.
    const BYTE_CLASSES: [u8; 23] = [
        0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
        0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF,
    ];

    /// Every 3-byte sequence of byte classes in every split, and every 4-byte one as the end
    /// of a single piece — the window `cut_tail_len` looks at.
    #[test]
    fn exhaustive_byte_class_sequences() {
        for &a in &BYTE_CLASSES {
            for &b in &BYTE_CLASSES {
                for &c in &BYTE_CLASSES {
                    for pieces in every_split(&[a, b, c]) {
                        check_against_std(&pieces);
                    }
                    for &d in &BYTE_CLASSES {
                        check_against_std(&[&[b'x', a, b, c, d]]);
                    }
                }
            }
        }
    }

    /// Every prefix of a valid multi-byte sequence followed by the end of the message.
    #[test]
    fn incomplete_at_finish() {
        for encoded in [&b"\xC3\xA9"[..], b"\xE2\x82\xAC", b"\xF0\x9F\x98\x80"] {
            for cut in 1..encoded.len() {
                let prefix = &encoded[..cut];
                for pieces in every_split(prefix) {
                    let mut validator = Utf8Validator::new();
                    assert_eq!(failing_piece(&mut validator, &pieces), None);
                    assert_eq!(validator.pending_len(), cut);
                    assert_eq!(validator.finish(), Err(Utf8Error::INCOMPLETE));
                    assert_eq!(validator.pending_len(), 0);
                }
                assert!(validate(prefix).is_err());
            }
        }
    }

    /// Long pieces exercise the SIMD paths (64-byte blocks), with cuts near block boundaries.
    #[test]
    fn long_pieces() {
        let text = "aé€😀".repeat(100);
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            check_against_std(&[&bytes[..cut], &bytes[cut..]]);
        }
        let mut corrupted = bytes.to_vec();
        for position in [0, 63, 64, 65, 127, 200, corrupted.len() - 1] {
            let saved = corrupted[position];
            corrupted[position] = 0xFF;
            for cut in [0, 1, 63, 64, position, position + 1, corrupted.len()] {
                let cut = cut.min(corrupted.len());
                check_against_std(&[&corrupted[..cut], &corrupted[cut..]]);
            }
            corrupted[position] = saved;
        }
    }

    /// Cut positions for a byte string of length `len`, as sorted distinct indices.
    fn cuts(len: usize) -> impl Strategy<Value = Vec<usize>> {
        proptest::collection::vec(0..=len, 0..8).prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts
        })
    }

    fn bytes_and_cuts(
        bytes: impl Strategy<Value = Vec<u8>>,
    ) -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
        bytes.prop_flat_map(|bytes| {
            let len = bytes.len();
            (Just(bytes), cuts(len))
        })
    }

    /// Valid text with a few bytes overwritten, inserted or removed.
    fn mutated_text() -> impl Strategy<Value = Vec<u8>> {
        (
            ".{0,40}",
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..4),
        )
            .prop_map(|(text, edits)| {
                let mut bytes = text.into_bytes();
                for (index, byte, kind) in edits {
                    if bytes.is_empty() {
                        bytes.push(byte);
                        continue;
                    }
                    let at = index.index(bytes.len());
                    match kind {
                        0 => bytes[at] = byte,
                        1 => bytes.insert(at, byte),
                        _ => {
                            bytes.remove(at);
                        }
                    }
                }
                bytes
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn arbitrary_bytes_match_std((bytes, cuts) in bytes_and_cuts(proptest::collection::vec(any::<u8>(), 0..24))) {
            check_against_std(&split_at_cuts(&bytes, &cuts));
        }

        #[test]
        fn mutated_text_matches_std((bytes, cuts) in bytes_and_cuts(mutated_text())) {
            check_against_std(&split_at_cuts(&bytes, &cuts));
        }

        #[test]
        fn valid_text_in_any_pieces((text, cuts) in ".{0,80}".prop_flat_map(|text| {
            let len = text.len();
            (Just(text), cuts(len))
        })) {
            let bytes = text.as_bytes();
            let pieces = split_at_cuts(bytes, &cuts);
            let mut validator = Utf8Validator::new();
            prop_assert_eq!(failing_piece(&mut validator, &pieces), None);
            prop_assert!(validator.finish().is_ok());
        }

        #[test]
        fn one_byte_pieces_match_std(bytes in mutated_text()) {
            let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
            check_against_std(&pieces);
        }
    }
}
