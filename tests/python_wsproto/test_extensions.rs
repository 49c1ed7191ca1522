//! tests/test_extensions.py: the `Extension` base class's defaults.
//!
//! DIFFERS: Python's base class also carries the frame hooks
//! (`frame_inbound_header`, `frame_inbound_payload_data`,
//! `frame_inbound_complete`, `frame_outbound`). Ours hands frames to a core
//! extension ([`Extension::frame_transform`]), whose default is none: the
//! four hook tests check that a default extension leaves frames alone,
//! which is what Python's defaults amount to.

use wsproto::compat::extensions::Extension;
use wsproto::compat::{Connection, ConnectionType, Event, extensions::ExtensionRef};
use wsproto::frame::Rsv;

#[derive(Debug)]
struct ConcreteExtension {
    enabled: bool,
}

impl Extension for ConcreteExtension {
    fn name(&self) -> &str {
        "myext"
    }

    fn enabled(&self) -> bool {
        self.enabled
    }

    fn offer(&self) -> Option<String> {
        Some("myext".into())
    }
}

fn ext() -> ConcreteExtension {
    ConcreteExtension { enabled: false }
}

/// A server connection with an enabled `ConcreteExtension`, fed `bytes`.
fn receive_through(bytes: &[u8]) -> Vec<Event> {
    let handle = ExtensionRef::new(ConcreteExtension { enabled: true });
    let mut conn = Connection::new(ConnectionType::Client, vec![handle], b"");
    conn.receive_data(Some(bytes)).unwrap();
    conn.events().collect()
}

#[test]
fn test_enabled() {
    assert!(!ext().enabled());
}

#[test]
fn test_offer() {
    assert_eq!(ext().offer().as_deref(), Some("myext"));
}

#[test]
fn test_accept() {
    assert_eq!(ext().accept("myext"), None);
}

#[test]
fn test_finalize() {
    ext().finalize("myext").unwrap();
}

#[test]
fn test_frame_inbound_header() {
    // Python: returns RsvBits(False, False, False), claiming no bit: a
    // frame with RSV1 still fails the connection.
    assert_eq!(ext().rsv(), Rsv::NONE);
    let events = receive_through(b"\xc1\x00");
    assert!(
        matches!(&events[..], [Event::CloseConnection(c)] if c.code == wsproto::CloseCode::PROTOCOL_ERROR)
    );
}

#[test]
fn test_frame_inbound_payload_data() {
    let events = receive_through(b"\x82\x00");
    assert!(matches!(&events[..], [Event::BytesMessage(m)] if m.data.is_empty()));
}

#[test]
fn test_frame_inbound_complete() {
    assert!(ext().frame_transform(true).is_none());
    let events = receive_through(b"\x81\x02hi");
    assert!(matches!(&events[..], [Event::TextMessage(m)] if m.data == "hi"));
}

#[test]
fn test_frame_outbound() {
    let handle = ExtensionRef::new(ConcreteExtension { enabled: true });
    let mut conn = Connection::new(ConnectionType::Server, vec![handle], b"");
    let data = conn
        .send(wsproto::compat::events::BytesMessage::new(&b""[..]))
        .unwrap();
    assert_eq!(&data[..], b"\x82\x00");
}
