//! The wire layer: frame headers, opcodes and close payloads (RFC 6455 §5).

pub mod close;
mod header;
mod opcode;
mod violation;

pub use close::{CloseCode, CloseFrame, MAX_CLOSE_REASON};
pub use header::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Rsv};
pub use opcode::Opcode;
pub use violation::ProtocolErrorKind;
