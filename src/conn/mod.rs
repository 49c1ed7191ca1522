//! The protocol engine behind every connection phase: what both directions
//! share (configuration, extensions, the [`State`] of the lifecycle), with
//! the inbound path in [`recv`] and the outbound path in [`send`].
//!
//! Bytes flow one way through each: `receive` → frames → messages → events,
//! and sends → frames → outgoing bytes. Every change of lifecycle state goes
//! through [`Engine::transition`], which applies the table of
//! [`lifecycle`](crate::lifecycle).

use std::marker::PhantomData;

use bytes::Bytes;

use crate::config::Config;
use crate::error::ProtocolError;
use crate::extensions::Extension;
use crate::frame::Rsv;
use crate::keys::MaskKeySource;
use crate::lifecycle::{Input, State};
use crate::outgoing::Outgoing;
use crate::role::Role;

mod recv;
mod send;

pub(crate) use send::Payload;

/// The protocol engine behind every connection phase.
pub(crate) struct Engine<R: Role> {
    pub(crate) config: Config,
    /// The lifecycle: the one place that says what may happen next.
    state: State,
    inbound: recv::Inbound,
    out: Outgoing,
    extensions: Vec<Box<dyn Extension>>,
    /// The union of the bits the extensions claim.
    claimed_rsv: Rsv,
    keys: Option<Box<dyn MaskKeySource>>,
    outbound: send::Outbound,
    /// The subprotocol the opening handshake agreed on.
    subprotocol: Option<Box<str>>,
    _role: PhantomData<R>,
}

impl<R: Role> std::fmt::Debug for Engine<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("role", &if R::IS_CLIENT { "client" } else { "server" })
            .field("state", &self.state)
            .field("inbound", &self.inbound)
            .field("outgoing", &self.out.len())
            .field("extensions", &self.extensions)
            .finish_non_exhaustive()
    }
}

impl<R: Role> Engine<R> {
    pub(crate) fn new(config: Config, extensions: Vec<Box<dyn Extension>>) -> Self {
        let claimed_rsv = extensions
            .iter()
            .fold(Rsv::NONE, |acc, ext| acc.union(ext.rsv()));
        Self {
            config,
            state: State::Open,
            inbound: recv::Inbound::default(),
            out: Outgoing::default(),
            extensions,
            claimed_rsv,
            keys: None,
            outbound: send::Outbound::default(),
            subprotocol: None,
            _role: PhantomData,
        }
    }

    /// An engine whose first outgoing bytes are `preface` (the server's 101
    /// response), written before any frame.
    pub(crate) fn with_preface(
        config: Config,
        extensions: Vec<Box<dyn Extension>>,
        preface: Bytes,
    ) -> Self {
        let mut engine = Self::new(config, extensions);
        engine.out.push_shared(preface);
        engine
    }

    pub(crate) fn set_mask_source(&mut self, source: Box<dyn MaskKeySource>) {
        self.keys = Some(source);
    }

    pub(crate) fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    pub(crate) fn set_subprotocol(&mut self, name: Option<&str>) {
        self.subprotocol = name.map(Box::from);
    }

    pub(crate) fn extensions(&self) -> &[Box<dyn Extension>] {
        &self.extensions
    }

    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// Takes one arc of the lifecycle table, and releases what the new
    /// state no longer needs: once input is no longer decoded, the receive
    /// buffer and the message being assembled are freed.
    fn transition(&mut self, input: Input) {
        if self.state.on(input) && !self.state.is_reading() {
            self.inbound.release();
        }
    }

    /// Fails the connection: queue the close frame (unless ours was sent
    /// before), stop reading.
    fn fail(&mut self, err: &ProtocolError) {
        // Nothing owed to the peer survives its protocol error.
        self.outbound.pending_pong = None;
        self.queue_close(&err.close_frame());
        self.transition(Input::Fail(err.clone()));
    }
}
