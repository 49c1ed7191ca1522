//! Python wsproto 1.3.2's own test suite (the `tests/` directory of its
//! sdist), ported to Rust against `wsproto::compat` and, for
//! `test_frame_protocol.py`, against our frame layer. Each test keeps its
//! Python name (a class's tests are in a module named after the class) so
//! the two suites can be read side by side. Where we differ on purpose the
//! test says so in a `DIFFERS:` comment; tests of Python internals with no
//! counterpart here are listed, with the reason, in `NOT_PORTED` below.

mod differential;
mod helpers;
mod test_client;
mod test_connection;
mod test_extensions;
mod test_frame_protocol;
mod test_handshake;
mod test_permessage_deflate;
mod test_server;

/// Python tests with nothing to test here, and why.
pub const NOT_PORTED: &[(&str, &str)] = &[(
    "test_frame_protocol.py::TestBuffer (12 tests)",
    "Python's internal byte buffer with commit/rollback; our receive \
     buffer is a `BytesMut` inside the engine, with no such API",
)];
