//! Frame mode (`MessageMode::Frames`) and `send_frame`, in memory: a client,
//! the two legs of a proxy, and a backend. Messages relayed frame by frame
//! arrive intact under every chunking, in both directions; each outgoing
//! leg masks as its role requires; a frame far larger than the receive
//! buffer goes through in pieces with bounded memory; compressed frames
//! pass through untouched only under parameters the far peer can
//! decompress, and are refused otherwise; forwarding keeps message
//! sequencing. The close code of every violation in frame mode is checked
//! by `tests/musts.rs` (`every_must_also_fails_in_frame_mode`).

mod common;

use bytes::Bytes;
use common::{Chunking, Rng, parse_frames, split};
use wsproto::extensions::{DeflateConfig, Extension, PerMessageDeflate};
use wsproto::frame::{FrameHeader, Opcode, Rsv};
use wsproto::{
    Client, Config, Event, LocalError, MessageKind, MessageMode, Open, Role, Server, Utf8Bytes,
};

fn frames() -> Config {
    Config::default()
        .with_message_mode(MessageMode::Frames)
        .with_auto_pong(false)
        .with_auto_close(false)
}

/// Polls `from` dry, forwarding every frame, ping and pong to `to`, in
/// order; returns the other events.
fn relay<A: Role, B: Role>(from: &mut Open<A>, to: &mut Open<B>) -> Vec<Event> {
    let mut others = Vec::new();
    while let Some(event) = from.poll_event().expect("no protocol error") {
        match event {
            Event::Frame(frame) => to.send_frame(&frame).expect("forwarded"),
            Event::Ping(payload) => to.send_ping(&payload).unwrap(),
            Event::Pong(payload) => to.send_pong(&payload).unwrap(),
            other => others.push(other),
        }
    }
    others
}

/// Every event `conn` has for `bytes`, fed whole.
fn events_of<R: Role>(conn: &mut Open<R>, bytes: &[u8]) -> Vec<Event> {
    conn.receive(bytes).unwrap();
    let mut events = Vec::new();
    while let Some(event) = conn.poll_event().expect("no protocol error") {
        events.push(event);
    }
    events
}

/// Events, with payloads shortened, for readable failures.
fn summary(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            let text = format!("{event:?}");
            if text.len() > 80 {
                format!("{}… ({} chars)", &text[..60], text.len())
            } else {
                text
            }
        })
        .collect()
}

/// What a sender sends in the scenarios: whole and fragmented messages,
/// a character split between fragments, empty messages, a ping between
/// fragments.
fn send_scenario<R: Role>(sender: &mut Open<R>) -> Vec<Event> {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + 3) as u8).collect();
    let euro = "€".as_bytes();
    sender.send_text("hello").unwrap();
    sender.send_binary(&big).unwrap();
    sender.send_text("").unwrap();
    sender
        .send_fragment(MessageKind::Text, &euro[..2], false)
        .unwrap();
    sender.send_ping(b"between").unwrap();
    sender
        .send_fragment(MessageKind::Text, &[&euro[2..], b"uro"].concat(), false)
        .unwrap();
    sender.send_fragment(MessageKind::Text, b"", true).unwrap();
    sender.send_binary(b"").unwrap();
    vec![
        Event::Text("hello".into()),
        Event::Binary(big.into()),
        Event::Text("".into()),
        Event::Ping(Bytes::from_static(b"between")),
        Event::Text("€uro".into()),
        Event::Binary(Bytes::new()),
    ]
}

#[test]
fn messages_relayed_frame_by_frame_arrive_intact_in_both_directions() {
    for chunking in [Chunking::Whole, Chunking::OneByte, Chunking::Random(7)] {
        // Client → proxy (server leg) → proxy (client leg) → backend.
        // The ends answer no pings, so each direction sees only its own.
        let ends = Config::default().with_auto_pong(false);
        let mut client = Open::<Client>::new(ends.clone(), Vec::new());
        let mut server_leg = Open::<Server>::new(frames(), Vec::new());
        let mut client_leg = Open::<Client>::new(frames(), Vec::new());
        let mut backend = Open::<Server>::new(ends, Vec::new());
        let expected = send_scenario(&mut client);
        let wire = client.take_outgoing();
        let mut rng = Rng::new(11);
        for piece in split(&wire, chunking, &mut rng) {
            server_leg.receive(piece).unwrap();
            assert_eq!(relay(&mut server_leg, &mut client_leg), []);
        }
        let got = events_of(&mut backend, &client_leg.take_outgoing());
        assert!(got == expected, "{chunking:?}: {:?}", summary(&got));
        // auto_pong is off on the legs: the proxy answers nothing itself.
        assert!(server_leg.take_outgoing().is_empty());

        // Backend → proxy (client leg) → proxy (server leg) → client.
        let expected = send_scenario(&mut backend);
        let wire = backend.take_outgoing();
        for piece in split(&wire, chunking, &mut rng) {
            client_leg.receive(piece).unwrap();
            assert_eq!(relay(&mut client_leg, &mut server_leg), []);
        }
        let got = events_of(&mut client, &server_leg.take_outgoing());
        assert!(got == expected, "{chunking:?}: {:?}", summary(&got));
    }
}

#[test]
fn each_leg_masks_as_its_role_requires() {
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    let mut server_leg = Open::<Server>::new(frames(), Vec::new());
    let mut client_leg = Open::<Client>::new(frames(), Vec::new());
    client.send_text("to the backend").unwrap();
    server_leg.receive(&client.take_outgoing()).unwrap();
    relay(&mut server_leg, &mut client_leg);
    let out = parse_frames(&client_leg.take_outgoing());
    assert_eq!(out.len(), 1);
    assert!(out[0].masked && out[0].fin && out[0].opcode == Opcode::Text);
    assert_eq!(out[0].payload, b"to the backend");

    let mut backend = Open::<Server>::new(Config::default(), Vec::new());
    backend.send_binary(b"to the client").unwrap();
    client_leg.receive(&backend.take_outgoing()).unwrap();
    relay(&mut client_leg, &mut server_leg);
    let out = parse_frames(&server_leg.take_outgoing());
    assert_eq!(out.len(), 1);
    assert!(!out[0].masked && out[0].fin && out[0].opcode == Opcode::Binary);
    assert_eq!(out[0].payload, b"to the client");
}

/// Byte `i` of the large frame's payload.
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

#[test]
fn a_frame_larger_than_every_buffer_goes_through_in_pieces() {
    const LEN: u64 = 64 << 20;
    const READ: usize = 64 * 1024;
    let unlimited = frames()
        .with_max_frame_size(u64::MAX >> 1)
        .with_max_message_size(u64::MAX);
    let mut server_leg = Open::<Server>::new(unlimited.clone(), Vec::new());
    let mut client_leg = Open::<Client>::new(unlimited.clone(), Vec::new());
    let mut backend = Open::<Server>::new(
        unlimited.with_message_mode(MessageMode::Streaming),
        Vec::new(),
    );

    // One masked text-free binary frame of 64 MiB, as a client sends it.
    let key = [0x12, 0x34, 0x56, 0x78];
    let header = FrameHeader {
        fin: true,
        rsv: Rsv::NONE,
        opcode: Opcode::Binary,
        mask: Some(key),
        payload_len: LEN,
    };
    let (raw, n) = header.encode();
    server_leg.receive(&raw[..n]).unwrap();
    let mut sent = 0u64;
    let mut checked = 0u64;
    let mut pieces = 0;
    let mut read = vec![0u8; READ];
    while sent < LEN {
        let len = READ.min((LEN - sent) as usize);
        for (i, b) in read[..len].iter_mut().enumerate() {
            *b = pattern(sent + i as u64);
        }
        wsproto::mask::apply_mask(&mut read[..len], key, sent as usize);
        server_leg.receive(&read[..len]).unwrap();
        sent += len as u64;
        while let Some(event) = server_leg.poll_event().unwrap() {
            let Event::Frame(frame) = event else {
                panic!("{event:?}")
            };
            assert!(
                frame.data().len() <= READ + n,
                "a piece is one read at most"
            );
            assert_eq!(frame.is_frame_start(), pieces == 0);
            pieces += 1;
            client_leg.send_frame(&frame).unwrap();
        }
        // Nothing waits in the proxy for the rest of the frame.
        assert!(
            server_leg.receive_buffer().unwrap().capacity() <= 4 * READ,
            "receive buffer {}",
            server_leg.receive_buffer().unwrap().capacity()
        );
        let out = client_leg.take_outgoing();
        assert!(out.len() <= READ + 2 * 14, "outgoing {}", out.len());
        backend.receive(&out).unwrap();
        while let Some(event) = backend.poll_event().unwrap() {
            let Event::BinaryChunk { data, .. } = event else {
                panic!("{event:?}")
            };
            for (i, b) in data.iter().enumerate() {
                assert_eq!(
                    *b,
                    pattern(checked + i as u64),
                    "byte {}",
                    checked + i as u64
                );
            }
            checked += data.len() as u64;
        }
    }
    assert_eq!(checked, LEN);
    assert!(pieces >= (LEN / READ as u64) as usize);
}

/// Negotiates permessage-deflate between a client and a server extension,
/// as the handshake would.
fn negotiate(
    client: DeflateConfig,
    server: DeflateConfig,
) -> (PerMessageDeflate, PerMessageDeflate) {
    let mut client_ext = PerMessageDeflate::new(client);
    let mut server_ext = PerMessageDeflate::new(server);
    let offer = client_ext.offer().unwrap();
    let response = server_ext.accept(&offer).unwrap();
    client_ext.finalize(&response).unwrap();
    (client_ext, server_ext)
}

fn ext(e: PerMessageDeflate) -> Vec<Box<dyn Extension>> {
    vec![Box::new(e)]
}

/// Compressible text, different for each `i`.
fn prose(i: usize) -> String {
    format!("message {i}: the same words again and again, ").repeat(20 + i)
}

#[test]
fn compressed_frames_pass_through_untouched_under_identical_parameters() {
    for params in [
        DeflateConfig::default(),
        DeflateConfig::default()
            .with_server_no_context_takeover(true)
            .with_client_no_context_takeover(true)
            .with_server_max_window_bits(Some(10))
            .with_client_max_window_bits(Some(9)),
    ] {
        let (client_ext, front_ext) = negotiate(params.clone(), params.clone());
        let (back_ext, backend_ext) = negotiate(params.clone(), params.clone());
        let mut client = Open::<Client>::new(Config::default(), ext(client_ext));
        let mut server_leg = Open::<Server>::new(frames(), ext(front_ext));
        let mut client_leg = Open::<Client>::new(frames(), ext(back_ext));
        let mut backend = Open::<Server>::new(Config::default(), ext(backend_ext));

        // Several messages, so context takeover (when on) is exercised,
        // and a fragmented compressed one.
        let mut expected = Vec::new();
        for i in 0..5 {
            client.send_text(&prose(i)).unwrap();
            expected.push(Event::Text(prose(i).into()));
        }
        client
            .send_fragment(MessageKind::Text, prose(7).as_bytes(), false)
            .unwrap();
        client
            .send_fragment(MessageKind::Text, prose(8).as_bytes(), true)
            .unwrap();
        expected.push(Event::Text((prose(7) + &prose(8)).into()));
        let wire = client.take_outgoing();
        server_leg.receive(&wire).unwrap();
        relay(&mut server_leg, &mut client_leg);
        let forwarded = client_leg.take_outgoing();
        // Untouched: the same frames, RSV1 on each message's first frame.
        let (sent, out) = (parse_frames(&wire), parse_frames(&forwarded));
        assert_eq!(sent.len(), out.len());
        for (a, b) in sent.iter().zip(&out) {
            assert_eq!(
                (a.fin, a.rsv, a.opcode, &a.payload),
                (b.fin, b.rsv, b.opcode, &b.payload)
            );
        }
        assert!(out[0].rsv.contains(Rsv::RSV1));
        assert_eq!(events_of(&mut backend, &forwarded), expected, "{params:?}");

        // And back.
        let mut expected = Vec::new();
        for i in 10..14 {
            backend.send_text(&prose(i)).unwrap();
            expected.push(Event::Text(prose(i).into()));
        }
        client_leg.receive(&backend.take_outgoing()).unwrap();
        relay(&mut client_leg, &mut server_leg);
        let back = server_leg.take_outgoing();
        assert!(parse_frames(&back)[0].rsv.contains(Rsv::RSV1));
        assert_eq!(events_of(&mut client, &back), expected, "{params:?}");
    }
}

/// The first frame a client with `client_params` sends through a server
/// leg negotiated with `front`, forwarded on a client leg negotiated with
/// the backend as `back` (`None`: no deflate there).
fn forward_compressed(front: DeflateConfig, back: Option<DeflateConfig>) -> Result<(), LocalError> {
    let (client_ext, front_ext) = negotiate(front.clone(), front);
    let mut client = Open::<Client>::new(Config::default(), ext(client_ext));
    let mut server_leg = Open::<Server>::new(frames(), ext(front_ext));
    let back_exts = match back {
        Some(back) => ext(negotiate(back.clone(), back).0),
        None => Vec::new(),
    };
    let mut client_leg = Open::<Client>::new(frames(), back_exts);
    client.send_text(&prose(1)).unwrap();
    server_leg.receive(&client.take_outgoing()).unwrap();
    let Some(Event::Frame(frame)) = server_leg.poll_event().unwrap() else {
        panic!("a frame")
    };
    assert!(frame.rsv().contains(Rsv::RSV1));
    // Compressed text is not checked here, but it is still text.
    assert_eq!(frame.kind(), MessageKind::Text);
    let result = client_leg.send_frame(&frame);
    if result.is_err() {
        assert_eq!(client_leg.outgoing_len(), 0, "nothing queued");
    }
    result
}

#[test]
fn compressed_frames_are_refused_where_the_far_peer_could_not_inflate_them() {
    let default = DeflateConfig::default;
    assert_eq!(forward_compressed(default(), Some(default())), Ok(()));
    // No deflate on the other leg.
    assert!(matches!(
        forward_compressed(default(), None),
        Err(LocalError::CannotRelay(_))
    ));
    // The backend allows a smaller client window than the client uses.
    assert!(matches!(
        forward_compressed(
            default(),
            Some(default().with_client_max_window_bits(Some(9)))
        ),
        Err(LocalError::CannotRelay(_))
    ));
    // The backend expects no context takeover; the client promised none only
    // on the other leg… not at all here.
    assert!(matches!(
        forward_compressed(
            default(),
            Some(default().with_client_no_context_takeover(true))
        ),
        Err(LocalError::CannotRelay(_))
    ));
    // Stricter on the client's side is fine.
    assert_eq!(
        forward_compressed(
            default()
                .with_client_max_window_bits(Some(9))
                .with_client_no_context_takeover(true),
            Some(default())
        ),
        Ok(())
    );
}

#[test]
fn frame_mode_compresses_nothing_of_its_own() {
    let (client_ext, server_ext) = negotiate(DeflateConfig::default(), DeflateConfig::default());
    let mut leg = Open::<Client>::new(frames(), ext(client_ext));
    let text = prose(3);
    leg.send_text(&text).unwrap();
    let out = parse_frames(&leg.take_outgoing());
    assert_eq!(out[0].rsv, Rsv::NONE, "sent uncompressed");
    // The peer still reads it.
    let mut peer = Open::<Server>::new(Config::default(), ext(server_ext));
    leg.send_text(&text).unwrap();
    assert_eq!(
        events_of(&mut peer, &leg.take_outgoing()),
        [Event::Text(Utf8Bytes::from(text))]
    );
}

#[test]
fn forwarding_keeps_messages_in_sequence() {
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    let mut server_leg = Open::<Server>::new(frames(), Vec::new());
    client
        .send_fragment(MessageKind::Binary, b"first", false)
        .unwrap();
    client
        .send_fragment(MessageKind::Binary, b"second", true)
        .unwrap();
    client.send_text("next").unwrap();
    server_leg.receive(&client.take_outgoing()).unwrap();
    let mut got = Vec::new();
    while let Some(Event::Frame(frame)) = server_leg.poll_event().unwrap() {
        got.push(frame);
    }
    let [first, second, next] = &got[..] else {
        panic!("{got:?}")
    };
    assert_eq!(
        (first.opcode(), first.fin(), first.kind()),
        (Opcode::Binary, false, MessageKind::Binary)
    );
    assert_eq!(second.opcode(), Opcode::Continuation);
    assert!(second.is_message_end() && next.is_message_end());

    // A continuation of a message never started here.
    let mut leg = Open::<Client>::new(frames(), Vec::new());
    assert!(matches!(
        leg.send_frame(second),
        Err(LocalError::CannotRelay(_))
    ));
    // A new message inside a forwarded one.
    leg.send_frame(first).unwrap();
    assert_eq!(leg.send_frame(next), Err(LocalError::MessageInProgress));
    assert_eq!(leg.send_text("mine"), Err(LocalError::MessageInProgress));
    // Control frames may go between the fragments.
    leg.send_ping(b"p").unwrap();
    leg.send_frame(second).unwrap();
    leg.send_frame(next).unwrap();
    leg.send_text("mine").unwrap();
    let mut backend = Open::<Server>::new(Config::default().with_auto_pong(false), Vec::new());
    assert_eq!(
        events_of(&mut backend, &leg.take_outgoing()),
        [
            Event::Ping(Bytes::from_static(b"p")),
            Event::Binary(Bytes::from_static(b"firstsecond")),
            Event::Text("next".into()),
            Event::Text("mine".into()),
        ]
    );
}

#[test]
fn invalid_utf8_is_never_reported_so_never_forwarded() {
    // "é" split between two frames is fine; a lone continuation byte in the
    // second frame fails with 1007 before that frame is reported.
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    let mut server_leg = Open::<Server>::new(frames(), Vec::new());
    client
        .send_fragment(MessageKind::Text, b"ok \xc3", false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, b"\xa9 then \x80", true)
        .unwrap();
    server_leg.receive(&client.take_outgoing()).unwrap();
    let Some(Event::Frame(first)) = server_leg.poll_event().unwrap() else {
        panic!()
    };
    assert_eq!(&first.data()[..], b"ok \xc3");
    let err = server_leg.poll_event().unwrap_err();
    assert_eq!(err.code, wsproto::CloseCode::INVALID_FRAME_PAYLOAD_DATA);
    let out = parse_frames(&server_leg.take_outgoing());
    assert_eq!(out.last().unwrap().close_code(), Some(1007));
    // A text message may not end inside a character either.
    let mut client = Open::<Client>::new(Config::default(), Vec::new());
    let mut server_leg = Open::<Server>::new(frames(), Vec::new());
    client
        .send_fragment(MessageKind::Text, b"ok \xc3", false)
        .unwrap();
    client.send_fragment(MessageKind::Text, b"", true).unwrap();
    server_leg.receive(&client.take_outgoing()).unwrap();
    assert!(matches!(server_leg.poll_event(), Ok(Some(Event::Frame(_)))));
    assert_eq!(
        server_leg.poll_event().unwrap_err().code,
        wsproto::CloseCode::INVALID_FRAME_PAYLOAD_DATA
    );
}

#[test]
fn masking_direction_is_enforced_in_frame_mode() {
    // An unmasked frame to the server leg, a masked one to the client leg.
    let mut server_leg = Open::<Server>::new(frames(), Vec::new());
    server_leg.receive(b"\x82\x01x").unwrap();
    assert_eq!(server_leg.poll_event().unwrap_err().code.0, 1002);
    let mut client_leg = Open::<Client>::new(frames(), Vec::new());
    client_leg.receive(b"\x82\x81\x00\x00\x00\x00x").unwrap();
    assert_eq!(client_leg.poll_event().unwrap_err().code.0, 1002);
}
