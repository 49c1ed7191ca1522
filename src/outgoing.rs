//! The outgoing byte queue: small frames are staged contiguously, large
//! shared payloads are queued without a copy for vectored writes.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Bytes, BytesMut};

/// Smallest allocation made for staged bytes. The header of a payload
/// queued by reference is split off `staged` on its own; a buffer grown to
/// fit just one header would be full again at the next one and, since the
/// earlier headers still share it, replaced by a new allocation per message.
/// With room for a few hundred headers, the buffer is reclaimed in place once
/// the caller has written (and dropped) them.
const MIN_STAGING: usize = 4096;

/// Bytes waiting to be written to the transport, in order.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    /// Segments that precede `staged`.
    queue: VecDeque<Bytes>,
    /// Bytes written after every queued segment.
    pub(crate) staged: BytesMut,
    queued_len: usize,
    /// Where `take` joins queued pieces; kept so that, once the caller drops
    /// the previous result, the next join reuses its allocation.
    joined: BytesMut,
}

impl Outgoing {
    pub(crate) fn len(&self) -> usize {
        self.queued_len + self.staged.len()
    }

    /// Stages the header of a payload that [`push_shared`](Self::push_shared)
    /// queues next.
    pub(crate) fn stage_header(&mut self, header: &[u8]) {
        if self.staged.capacity() - self.staged.len() < header.len() {
            self.staged.reserve(header.len().max(MIN_STAGING));
        }
        self.staged.extend_from_slice(header);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `data` after everything staged, without copying it.
    pub(crate) fn push_shared(&mut self, data: Bytes) {
        self.seal_staged();
        self.queued_len += data.len();
        self.queue.push_back(data);
    }

    fn seal_staged(&mut self) {
        if !self.staged.is_empty() {
            let staged = self.staged.split().freeze();
            self.queued_len += staged.len();
            self.queue.push_back(staged);
        }
    }

    /// The next contiguous piece to write, removed from the queue.
    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        if let Some(front) = self.queue.pop_front() {
            self.queued_len -= front.len();
            return Some(front);
        }
        (!self.staged.is_empty()).then(|| self.staged.split().freeze())
    }

    /// Everything queued, as one buffer (copied only if large payloads were
    /// queued by reference).
    pub(crate) fn take(&mut self) -> Bytes {
        if self.queue.is_empty() {
            return self.staged.split().freeze();
        }
        self.joined.reserve(self.len());
        while let Some(piece) = self.poll_transmit() {
            self.joined.extend_from_slice(&piece);
        }
        self.joined.split().freeze()
    }

    /// Fills `dst` with slices of the queued bytes, in order; returns how many.
    pub(crate) fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let pieces = self
            .queue
            .iter()
            .map(|b| &b[..])
            .chain(std::iter::once(&self.staged[..]))
            .filter(|p| !p.is_empty());
        let mut n = 0;
        for (slot, piece) in dst.iter_mut().zip(pieces) {
            *slot = IoSlice::new(piece);
            n += 1;
        }
        n
    }

    /// Drops the first `n` queued bytes (after a partial write).
    pub(crate) fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.queue.front_mut() else {
                let cut = n.min(self.staged.len());
                let _ = self.staged.split_to(cut);
                return;
            };
            let cut = n.min(front.len());
            let _ = front.split_to(cut);
            self.queued_len -= cut;
            n -= cut;
            if front.is_empty() {
                self.queue.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_kept_across_staged_and_shared() {
        let mut out = Outgoing::default();
        out.staged.extend_from_slice(b"ab");
        out.push_shared(Bytes::from_static(b"cd"));
        out.staged.extend_from_slice(b"ef");
        assert_eq!(out.len(), 6);
        let mut slices = [IoSlice::new(&[]); 4];
        assert_eq!(out.chunks_vectored(&mut slices), 3);
        out.advance(3);
        assert_eq!(out.len(), 3);
        assert_eq!(&out.take()[..], b"def");
        assert!(out.is_empty());
    }
}
