//! The two endpoint roles as types, so masking is decided at compile time.

mod sealed {
    pub trait Sealed {}
}

/// An endpoint role: [`Client`] or [`Server`]. Sealed.
pub trait Role: sealed::Sealed + Send + Sync + 'static + std::fmt::Debug {
    /// Clients mask every frame they send and reject masked frames; servers
    /// reject unmasked frames and never mask (RFC 6455 §5.1).
    const IS_CLIENT: bool;
}

/// The client role: masks outbound frames, rejects masked inbound frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Client;

/// The server role: sends unmasked frames, rejects unmasked inbound frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Server;

impl sealed::Sealed for Client {}
impl sealed::Sealed for Server {}

impl Role for Client {
    const IS_CLIENT: bool = true;
}

impl Role for Server {
    const IS_CLIENT: bool = false;
}
