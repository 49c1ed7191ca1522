//! The typed phases past our own close: what the peer decides comes back as
//! a `WebSocket` variant, and a `WebSocket` held in a field moves through
//! every phase in place.

use wsproto::lifecycle::State;
use wsproto::{Client, CloseCode, Config, Event, Open, ProtocolErrorKind, Server, WebSocket};

fn pair(config: Config) -> (Open<Client>, Open<Server>) {
    (
        Open::<Client>::new(config.clone(), Vec::new()),
        Open::<Server>::new(config, Vec::new()),
    )
}

fn drain<R: wsproto::Role>(ws: &mut WebSocket<R>) -> Vec<Event> {
    let mut events = Vec::new();
    while let Ok(Some(event)) = ws.poll_event() {
        events.push(event);
    }
    events
}

#[test]
fn peer_close_with_auto_close_off_is_remote_closing_then_our_reply_closes() {
    let (client, server) = pair(Config::default().with_auto_close(false));
    let mut closing = client.close(CloseCode::GOING_AWAY, "later");
    let mut server = WebSocket::from(server);
    server.receive(&closing.take_outgoing()).unwrap();
    assert_eq!(drain(&mut server).len(), 1);
    let WebSocket::RemoteClosing(remote) = server else {
        panic!("{server:?}")
    };
    assert_eq!(remote.close_received().unwrap().code, CloseCode::GOING_AWAY);
    let mut closed = remote.close(CloseCode::GOING_AWAY, "");
    assert!(closed.was_clean());
    // The reply is still there to be written.
    closing.receive(&closed.take_outgoing()).unwrap();
    assert!(matches!(closing.poll_event(), Ok(Some(Event::Close(_)))));
    assert!(matches!(closing.next_phase(), WebSocket::Closed(c) if c.was_clean()));
}

#[test]
fn peer_close_with_auto_close_on_goes_straight_to_closed() {
    let (client, server) = pair(Config::default());
    let mut closing = client.close(CloseCode::NORMAL, "");
    let mut server = WebSocket::from(server);
    server.receive(&closing.take_outgoing()).unwrap();
    drain(&mut server);
    assert!(matches!(server.state(), State::Closed(_)));
    let WebSocket::Closed(mut closed) = server else {
        panic!()
    };
    assert!(!closed.take_outgoing().is_empty(), "the reply is queued");
}

#[test]
fn protocol_error_is_closed_with_the_error() {
    let mut server = WebSocket::from(Open::<Server>::new(Config::default(), Vec::new()));
    server.receive(b"\x81\x00").unwrap(); // unmasked
    let err = server.poll_event().unwrap_err();
    assert_eq!(err.kind, ProtocolErrorKind::UnmaskedFrameFromClient);
    assert_eq!(err.code, CloseCode::PROTOCOL_ERROR);
    let WebSocket::Closed(closed) = &server else {
        panic!("{server:?}")
    };
    assert_eq!(closed.error(), Some(&err));
    assert!(!closed.was_clean());
}

#[test]
fn eof_is_closed_with_1006() {
    let (_, server) = pair(Config::default());
    let mut server = WebSocket::from(server);
    server.receive_eof();
    let events = drain(&mut server);
    assert!(matches!(&events[..], [Event::Close(f)] if f.code == CloseCode::ABNORMAL_CLOSURE));
    assert!(matches!(server, WebSocket::Closed(_)));
    assert!(server.as_open().is_none());
}

#[test]
fn a_websocket_field_lives_through_every_phase() {
    struct Session {
        ws: WebSocket<Client>,
    }
    let (client, server) = pair(Config::default());
    let mut session = Session { ws: client.into() };
    let mut server = WebSocket::from(server);
    session.ws.as_open().unwrap().send_text("hi").unwrap();
    session.ws.close(CloseCode::NORMAL, "bye");
    assert!(matches!(session.ws, WebSocket::Closing(_)));
    // A second close changes nothing.
    session.ws.close(CloseCode::NORMAL, "again");
    server.receive(&session.ws.take_outgoing()).unwrap();
    assert_eq!(drain(&mut server).len(), 2);
    assert!(matches!(server, WebSocket::Closed(_)));
    session.ws.receive(&server.take_outgoing()).unwrap();
    drain(&mut session.ws);
    let WebSocket::Closed(closed) = &session.ws else {
        panic!("{:?}", session.ws)
    };
    assert!(closed.was_clean());
}

#[test]
fn sends_after_the_peer_close_fail_at_run_time_on_an_unrefreshed_open() {
    // A caller who keeps the `Open` without asking for the next phase still
    // gets a clear error.
    let (client, mut server) = pair(Config::default());
    let mut closing = client.close(CloseCode::NORMAL, "");
    server.receive(&closing.take_outgoing()).unwrap();
    while server.poll_event().unwrap().is_some() {}
    assert_eq!(server.send_text("late"), Err(wsproto::LocalError::Closed));
    assert!(matches!(server.next_phase(), WebSocket::Closed(_)));
}
