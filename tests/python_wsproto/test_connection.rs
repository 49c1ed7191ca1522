//! tests/test_connection.py: `Connection` after the handshake.

use bytes::Bytes;
use wsproto::CloseCode;
use wsproto::compat::events::{BytesMessage, CloseConnection, Ping, Request, TextMessage};
use wsproto::compat::{Connection, ConnectionState, ConnectionType, Event};

fn pair(client_sends: bool) -> (Connection, Connection) {
    let client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    let server = Connection::new(ConnectionType::Server, Vec::new(), b"");
    if client_sends {
        (client, server)
    } else {
        (server, client)
    }
}

fn next(conn: &mut Connection) -> Event {
    conn.events().next().expect("an event")
}

#[test]
fn test_send_message() {
    for client_sends in [true, false] {
        for fin in [true, false] {
            let (mut local, mut remote) = pair(client_sends);
            let data = Bytes::from(vec![b'x'; 23]);
            let mut message = BytesMessage::new(data.clone());
            message.message_finished = fin;
            remote
                .receive_data(Some(&local.send(message).unwrap()))
                .unwrap();
            let Event::BytesMessage(event) = next(&mut remote) else {
                panic!()
            };
            assert_eq!(event.data, data);
            assert_eq!(event.message_finished, fin);
        }
    }
}

#[test]
fn test_closure() {
    for client_sends in [true, false] {
        for (code, reason) in [(CloseCode::NORMAL, "bye"), (CloseCode::GOING_AWAY, "👋👋")] {
            let (mut local, mut remote) = pair(client_sends);
            let close = CloseConnection::with_reason(code, reason);
            remote
                .receive_data(Some(&local.send(close).unwrap()))
                .unwrap();
            let Event::CloseConnection(event) = next(&mut remote) else {
                panic!()
            };
            assert_eq!(event.code, code);
            assert_eq!(event.reason.as_deref(), Some(reason));
            assert_eq!(remote.state(), ConnectionState::RemoteClosing);
            assert_eq!(local.state(), ConnectionState::LocalClosing);

            local
                .receive_data(Some(&remote.send(event.response()).unwrap()))
                .unwrap();
            let Event::CloseConnection(event) = next(&mut local) else {
                panic!()
            };
            assert_eq!(event.code, code);
            assert_eq!(event.reason.as_deref(), Some(reason));
            assert_eq!(remote.state(), ConnectionState::Closed);
            assert_eq!(local.state(), ConnectionState::Closed);

            assert!(local.receive_data(Some(b"foobar")).is_err());
        }
    }
}

#[test]
fn test_abnormal_closure() {
    let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    client.receive_data(None).unwrap();
    let Event::CloseConnection(event) = next(&mut client) else {
        panic!()
    };
    assert_eq!(event.code, CloseCode::ABNORMAL_CLOSURE);
    assert_eq!(client.state(), ConnectionState::Closed);
}

#[test]
fn test_close_whilst_closing() {
    let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    client
        .send(CloseConnection::new(CloseCode::NORMAL))
        .unwrap();
    assert!(
        client
            .send(CloseConnection::new(CloseCode::NORMAL))
            .is_err()
    );
}

#[test]
fn test_send_after_close() {
    let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    client
        .send(CloseConnection::new(CloseCode::NORMAL))
        .unwrap();
    assert!(client.send(TextMessage::new("")).is_err());
}

#[test]
fn test_ping_pong() {
    for client_sends in [true, false] {
        let (mut local, mut remote) = pair(client_sends);
        let payload = Bytes::from(vec![b'x'; 23]);
        remote
            .receive_data(Some(&local.send(Ping::new(payload.clone())).unwrap()))
            .unwrap();
        let Event::Ping(event) = next(&mut remote) else {
            panic!()
        };
        assert_eq!(event.payload, payload);
        local
            .receive_data(Some(&remote.send(event.response()).unwrap()))
            .unwrap();
        let Event::Pong(event) = next(&mut local) else {
            panic!()
        };
        assert_eq!(event.payload, payload);
    }
}

#[test]
fn test_unsolicited_pong() {
    let (mut client, mut server) = pair(true);
    let payload = Bytes::from(vec![b'x'; 23]);
    let pong = wsproto::compat::events::Pong::new(payload.clone());
    server
        .receive_data(Some(&client.send(pong).unwrap()))
        .unwrap();
    let Event::Pong(event) = next(&mut server) else {
        panic!()
    };
    assert_eq!(event.payload, payload);
}

#[test]
fn test_data() {
    for split_message in [true, false] {
        let (mut client, mut server) = pair(true);
        let mut message = TextMessage::new("ƒñö®∂😎");
        message.message_finished = !split_message;
        server
            .receive_data(Some(&client.send(message).unwrap()))
            .unwrap();
        let Event::TextMessage(event) = next(&mut server) else {
            panic!()
        };
        assert_eq!(event.message_finished, !split_message);
    }
}

#[test]
fn test_frame_protocol_gets_fed_garbage() {
    let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    let payload = [b'x'; 23];
    let mut frame = vec![0x09, payload.len() as u8];
    frame.extend_from_slice(&payload);
    client.receive_data(Some(&frame)).unwrap();
    let Event::CloseConnection(event) = next(&mut client) else {
        panic!()
    };
    assert_eq!(event.code, CloseCode::PROTOCOL_ERROR);
}

#[test]
fn test_send_invalid_event() {
    let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    assert!(client.send(Request::new("wsproto", "/")).is_err());
}

#[test]
fn test_receive_data_when_closed() {
    // Python sets `client._state = CLOSED`; here the close handshake (or
    // the end of the transport) gets it there.
    let mut client = Connection::new(ConnectionType::Client, Vec::new(), b"");
    client.receive_data(None).unwrap();
    assert_eq!(client.state(), ConnectionState::Closed);
    assert!(client.receive_data(Some(b"something")).is_err());
}
