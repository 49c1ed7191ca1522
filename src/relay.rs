//! Frame-level mode for proxies: each data frame is reported as it arrives
//! ([`Frame`]) and forwarded with [`Open::send_frame`](crate::Open::send_frame),
//! without reassembling messages.
//!
//! Turn it on with [`MessageMode::Frames`](crate::MessageMode::Frames) (on
//! the async adapter, frames are `stream::Message::Frame`). Data
//! frames then come out of `poll_event` as [`Event::Frame`](crate::Event::Frame)
//! pieces: the frame's opcode, FIN and reserved bits, and its unmasked
//! payload as far as it has arrived. Nothing waits for the rest of a frame or
//! of a message, so memory stays bounded by the read size (and
//! [`Config::max_receive_buffer`](crate::Config::max_receive_buffer)) however
//! large a frame or a message is. Ping, pong and close frames still come out
//! as [`Event::Ping`](crate::Event::Ping), [`Event::Pong`](crate::Event::Pong)
//! and [`Event::Close`](crate::Event::Close), whole and checked; a proxy
//! usually turns `auto_pong` and `auto_close` off so that the peer behind it
//! answers them (`examples/proxy.rs`).
//!
//! ```
//! use wsproto::{Client, Config, Event, MessageMode, Open, Server};
//!
//! // The two legs of a proxy: a client talks to our server leg, our client
//! // leg talks to the backend.
//! let frames = Config::default().with_message_mode(MessageMode::Frames);
//! let mut from_client = Open::<Server>::new(frames.clone(), Vec::new());
//! let mut to_backend = Open::<Client>::new(frames, Vec::new());
//!
//! let mut client = Open::<Client>::new(Config::default(), Vec::new());
//! client.send_text("hello")?;
//! from_client.receive(&client.take_outgoing())?;
//! while let Some(event) = from_client.poll_event()? {
//!     if let Event::Frame(frame) = event {
//!         to_backend.send_frame(&frame)?; // masked again, with a new key
//!     }
//! }
//! let mut backend = Open::<Server>::new(Config::default(), Vec::new());
//! backend.receive(&to_backend.take_outgoing())?;
//! assert_eq!(backend.poll_event()?, Some(Event::Text("hello".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is still enforced
//!
//! Everything RFC 6455 lets a receiver check, with the same close codes as
//! in the other modes: masking direction (§5.1), reserved opcodes and
//! reserved bits no extension claims (§5.2), control frames over 125 bytes
//! or fragmented (§5.5), continuation frames with no message to continue
//! and new messages inside a fragmented one (§5.4), close payloads (a
//! 1-byte payload, a code that may not be sent: 1002; a reason that is not
//! UTF-8: 1007), `max_frame_size` and `max_message_size` (1009, counted on
//! the payload as received). A rule decided from a header fails the
//! connection before any of that frame's payload is reported; invalid
//! UTF-8, before the piece that holds it.
//!
//! # UTF-8: checked across the frames of a text message
//!
//! Uncompressed text is validated as it streams through, with the same
//! streaming validator as the other modes, across frame boundaries: a
//! character may be split between frames (and between pieces). Invalid
//! UTF-8 fails the connection with 1007 at the first piece that shows it, so
//! the piece is never reported and a proxy never forwards it; a message that
//! ends inside a character fails at its last frame. Pieces themselves may end
//! inside a character: they are bytes to forward, not text.
//!
//! Compressed text (a message whose first frame has RSV1 under
//! permessage-deflate) is not inflated in this mode, so it is not checked
//! here: the endpoint that inflates it checks it (and closes with 1007).
//!
//! # Compressed frames: passed through untouched, or refused
//!
//! In frame mode no extension transforms anything: frames are neither
//! inflated on receipt nor compressed on sending (`send_text` and friends
//! send uncompressed messages, which RFC 7692 leaves out of the shared
//! window). A frame whose message is compressed keeps its RSV1 bit and its
//! bytes. [`send_frame`](crate::Open::send_frame) forwards it only when the
//! receiving leg's peer compressed it under parameters that the sending
//! leg's peer can decompress: the same or a smaller window, and no context
//! takeover if the sending leg's peer expects none (see
//! [`Negotiated`]; identical
//! parameters on both legs always qualify). Otherwise it refuses the frame
//! with [`LocalError::CannotRelay`](crate::LocalError::CannotRelay): there is
//! no inflate-and-deflate-again path. A proxy negotiates so that this cannot
//! happen (`examples/proxy.rs` offers the backend what the client offered and
//! answers the client with what the backend chose), or leaves compression
//! off on both legs.
//!
//! With context takeover the peers' windows stay in step only if every
//! compressed message goes through, in order: forward all of them, or close.
//!
//! # How frames are forwarded
//!
//! A frame that arrived whole goes out as the same frame (opcode, FIN, RSV),
//! masked (client leg) or not (server leg) as the outgoing role requires. A
//! frame that arrived in pieces goes out as one fragment per piece: the
//! first keeps the frame's opcode and RSV bits, the others are continuation
//! frames, and the last carries the frame's FIN. RFC 6455 §5.4 lets an
//! intermediary that understands the negotiated extensions change the
//! fragmentation of a message, and a compressed message stays valid
//! (RFC 7692 compresses the message, not its frames). Every frame written is
//! complete, so a ping, a pong or a close can always go out between two
//! pieces.

use bytes::Bytes;

use crate::event::MessageKind;
use crate::extensions::deflate::Negotiated;
use crate::frame::{Opcode, Rsv};

/// A data frame, or the piece of one that has arrived: what
/// [`Event::Frame`](crate::Event::Frame) carries in
/// [`MessageMode::Frames`](crate::MessageMode::Frames). Forward it with
/// [`Open::send_frame`](crate::Open::send_frame).
///
/// Only a connection makes these, so a frame's reserved bits always come
/// from a peer and the parameters they were negotiated under.
///
/// ```
/// use wsproto::{Client, Config, Event, MessageMode, Opcode, Open, Server};
///
/// let mut client = Open::<Client>::new(Config::default(), Vec::new());
/// client.send_binary(&[1, 2, 3])?;
/// let config = Config::default().with_message_mode(MessageMode::Frames);
/// let mut server = Open::<Server>::new(config, Vec::new());
/// server.receive(&client.take_outgoing())?;
/// let Some(Event::Frame(frame)) = server.poll_event()? else { panic!() };
/// assert_eq!(frame.opcode(), Opcode::Binary);
/// assert!(frame.fin() && frame.is_frame_start() && frame.is_frame_end());
/// assert_eq!(&frame.data()[..], &[1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub(crate) opcode: Opcode,
    pub(crate) kind: MessageKind,
    pub(crate) fin: bool,
    pub(crate) rsv: Rsv,
    pub(crate) frame_start: bool,
    pub(crate) frame_end: bool,
    pub(crate) data: Bytes,
    /// The receiving leg's permessage-deflate parameters, when `rsv` has a
    /// bit its extension claims.
    pub(crate) origin: Option<Negotiated>,
}

impl Frame {
    /// The frame's opcode: [`Opcode::Text`] or [`Opcode::Binary`] for the
    /// first frame of a message, [`Opcode::Continuation`] for the others.
    /// Every piece of a frame has the frame's opcode.
    pub fn opcode(&self) -> Opcode {
        self.opcode
    }

    /// Whether the message this frame belongs to is text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The frame's FIN bit: whether the frame ends its message.
    pub fn fin(&self) -> bool {
        self.fin
    }

    /// The frame's reserved bits (RSV1 marks a compressed message under
    /// permessage-deflate; only a message's first frame has it).
    pub fn rsv(&self) -> Rsv {
        self.rsv
    }

    /// The unmasked payload bytes of this piece.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// The payload bytes, without a copy.
    pub fn into_data(self) -> Bytes {
        self.data
    }

    /// Whether this piece starts its frame.
    pub fn is_frame_start(&self) -> bool {
        self.frame_start
    }

    /// Whether this piece ends its frame.
    pub fn is_frame_end(&self) -> bool {
        self.frame_end
    }

    /// Whether this piece ends its message (the frame's FIN, at its end).
    pub fn is_message_end(&self) -> bool {
        self.fin && self.is_frame_end()
    }
}

/// Whether a message compressed by one leg's peer under `from` (its
/// inbound parameters) can be decompressed by the other leg's peer, which
/// negotiated `to` (its outbound parameters) with us: the sender's window is
/// no larger than the receiver allows, and if the receiver expects no
/// context takeover, the sender promised none.
pub(crate) fn can_relay(from: &Negotiated, to: &Negotiated) -> bool {
    from.receive_max_window_bits <= to.send_max_window_bits
        && (from.receive_no_context_takeover || !to.send_no_context_takeover)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(window: u8, no_takeover: bool) -> Negotiated {
        Negotiated {
            send_max_window_bits: window,
            send_no_context_takeover: no_takeover,
            receive_max_window_bits: window,
            receive_no_context_takeover: no_takeover,
        }
    }

    #[test]
    fn relay_needs_a_window_and_context_rule_the_receiver_accepts() {
        assert!(can_relay(&params(15, false), &params(15, false)));
        assert!(can_relay(&params(10, true), &params(10, true)));
        // Stricter on the sending side is fine.
        assert!(can_relay(&params(10, false), &params(15, false)));
        assert!(can_relay(&params(15, true), &params(15, false)));
        // Looser is not.
        assert!(!can_relay(&params(15, false), &params(10, false)));
        assert!(!can_relay(&params(15, false), &params(15, true)));
    }
}
