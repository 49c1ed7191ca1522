//! Every buffer is bounded in every phase (issue 10, item 5): the receive
//! side pushes back instead of growing, bytes after the close do not pile up,
//! and reading the outgoing length changes nothing.

use wsproto::{Client, CloseCode, Config, Event, LocalError, Open, Server};

const READ: usize = 64 * 1024;

#[test]
fn feeding_without_polling_is_refused_at_the_receive_limit() {
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    // 300 MiB measured before this bound; 8 MiB of small messages is enough
    // to see it.
    let message = vec![7u8; 1000];
    for _ in 0..8 * 1024 {
        client.send_binary(&message).unwrap();
    }
    let wire = client.take_outgoing();
    let limit = server.config().max_receive_buffer;
    let mut fed = 0;
    let refused = loop {
        match server.receive(&wire[fed..(fed + READ).min(wire.len())]) {
            Ok(()) => fed += READ,
            Err(err) => break err,
        }
        assert!(fed < wire.len(), "everything was taken without a poll");
    };
    assert!(
        matches!(refused, LocalError::ReceiveBufferFull { limit: l, .. } if l == limit),
        "{refused}"
    );
    // At most one read past the limit.
    assert!(fed <= limit + READ, "{fed} bytes buffered");
    assert_eq!(server.receive_capacity(), 0);
    assert!(
        server.receive_buffer().is_err(),
        "the direct path pushes back too"
    );

    // Polling makes room; then every message arrives.
    let mut messages = 0;
    loop {
        while let Some(event) = server.poll_event().unwrap() {
            assert_eq!(event, Event::Binary(message.clone().into()));
            messages += 1;
        }
        if fed >= wire.len() {
            break;
        }
        server
            .receive(&wire[fed..(fed + READ).min(wire.len())])
            .expect("room after polling");
        fed += READ;
    }
    assert_eq!(messages, 8 * 1024);
}

#[test]
fn a_frame_held_whole_may_exceed_the_receive_limit() {
    // Whole-message mode holds a frame until it is complete, so the limit
    // stretches to the frame's length (bounded by max_frame_size).
    let config = Config::default().with_max_receive_buffer(4096);
    let mut client = Open::<Client>::new(config.clone(), Vec::new());
    let mut server = Open::<Server>::new(config, Vec::new());
    let big = vec![1u8; 1 << 20];
    client.send_binary(&big).unwrap();
    let wire = client.take_outgoing();
    let mut events = Vec::new();
    for piece in wire.chunks(READ) {
        server
            .receive(piece)
            .expect("the frame's own bytes always fit");
        while let Some(event) = server.poll_event().unwrap() {
            events.push(event);
        }
    }
    assert_eq!(events, [Event::Binary(big.into())]);
}

#[test]
fn bytes_written_after_the_close_do_not_accumulate() {
    let client = Open::<Client>::new(Config::default(), Vec::new());
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    let mut closing = client.close(CloseCode::NORMAL, "bye");
    server.receive(&closing.take_outgoing()).unwrap();
    assert!(matches!(server.poll_event(), Ok(Some(Event::Close(_)))));
    // A peer that keeps talking after its close: 10 MiB through the direct
    // read path used to stay buffered.
    let junk = vec![0x82u8; READ];
    for _ in 0..160 {
        let buf = server.receive_buffer().expect("discarding, never full");
        buf.extend_from_slice(&junk);
        assert!(
            buf.len() <= READ,
            "{} bytes kept after the close",
            buf.len()
        );
        assert_eq!(server.poll_event(), Ok(None));
    }
    server.receive(&junk).unwrap();
    assert!(server.receive_buffer().unwrap().is_empty());
}

#[test]
fn bytes_after_eof_or_failure_are_discarded_too() {
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    // An unmasked frame from a client: 1002.
    server.receive(b"\x81\x00").unwrap();
    assert!(server.poll_event().is_err());
    for _ in 0..10 {
        server
            .receive_buffer()
            .unwrap()
            .extend_from_slice(&[0; READ]);
    }
    assert!(server.receive_buffer().unwrap().is_empty());
}

#[test]
fn reading_the_outgoing_length_changes_nothing() {
    // A pong that does not fit is owed, not written: reading the length
    // counts it and leaves it owed (the getter used to write it).
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    let mut server = Open::<Server>::new(Config::default().with_max_outgoing_buffer(4), Vec::new());
    client.send_ping(b"abc").unwrap();
    server.receive(&client.take_outgoing()).unwrap();
    assert!(matches!(server.poll_event(), Ok(Some(Event::Ping(_)))));
    let shared: &Open<Server> = &server; // a getter needs no `&mut`
    assert_eq!(shared.outgoing_len(), 5);
    assert_eq!(shared.outgoing_len(), 5);
    assert_eq!(&server.take_outgoing()[..], b"\x8a\x03abc");
    assert_eq!(server.outgoing_len(), 0);
}
