//! The async adapter (`wsproto::stream`) over real sockets and in-memory pipes.
#![cfg(feature = "tokio")]
