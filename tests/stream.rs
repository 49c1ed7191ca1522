//! The async adapter (`wsproto::stream`) over `tokio::io::duplex` and real
//! TCP on 127.0.0.1: echo in both roles, pings answered while the
//! application only reads or only writes (split halves too), the close
//! handshake from either side, the close and keepalive timeouts, back-pressure
//! against a peer that never reads, cancellation under `select!`, reunite,
//! handshake leftovers and rejections, tokio-tungstenite as the peer, and a
//! frame-mode relay between two streams.
#![cfg(feature = "tokio")]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite;
use wsproto::handshake::{Accept, Pending};
use wsproto::stream::{self, Error, Message, StreamConfig, WebSocketStream};
use wsproto::{Client, CloseCode, Config, Event, Open, Server, WebSocket};

/// Every wait of a test ends within this, so a bug fails the test instead
/// of hanging it.
const TIMEOUT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// The next message, which must come.
async fn next<S>(ws: &mut S) -> Message
where
    S: futures_util::Stream<Item = Result<Message, Error>> + Unpin,
{
    within("next message", ws.next())
        .await
        .expect("stream ended")
        .expect("stream error")
}

/// Reads until the stream ends, returning the messages seen and the error
/// it ended with, if any.
async fn drain<S>(ws: &mut S) -> (Vec<Message>, Option<Error>)
where
    S: futures_util::Stream<Item = Result<Message, Error>> + Unpin,
{
    let mut seen = Vec::new();
    loop {
        match within("end of stream", ws.next()).await {
            None => return (seen, None),
            Some(Ok(message)) => seen.push(message),
            Some(Err(err)) => return (seen, Some(err)),
        }
    }
}

/// A client and a server stream over an in-memory pipe, after a real
/// opening handshake.
async fn pair_with(
    capacity: usize,
    client_config: StreamConfig,
    server_config: StreamConfig,
) -> (
    WebSocketStream<DuplexStream, Client>,
    WebSocketStream<DuplexStream, Server>,
) {
    let (client_io, server_io) = tokio::io::duplex(capacity);
    let server = stream::accept_with(
        server_io,
        Config::default(),
        Vec::new(),
        server_config,
        |_| Ok(Accept::new()),
    );
    let request = http::Request::get("ws://localhost/").body(()).unwrap();
    let client = stream::client_async_with(
        request,
        client_io,
        Config::default(),
        Vec::new(),
        client_config,
    );
    let (server, client) = within("handshake", async { tokio::join!(server, client) }).await;
    (client.unwrap().0, server.unwrap())
}

async fn pair() -> (
    WebSocketStream<DuplexStream, Client>,
    WebSocketStream<DuplexStream, Server>,
) {
    pair_with(64 * 1024, StreamConfig::default(), StreamConfig::default()).await
}

/// A peer driven by hand with the sans-IO core, to see the exact frames.
struct RawPeer {
    io: DuplexStream,
    ws: WebSocket<Client>,
}

impl RawPeer {
    /// A raw client and our server stream over a pipe, the handshake skipped.
    fn with_server(
        capacity: usize,
        config: StreamConfig,
    ) -> (Self, WebSocketStream<DuplexStream, Server>) {
        let (client_io, server_io) = tokio::io::duplex(capacity);
        let server = WebSocketStream::from_open(
            server_io,
            Open::<Server>::new(Config::default(), Vec::new()),
            config,
        );
        let peer = Self {
            io: client_io,
            ws: Open::<Client>::new(Config::default(), Vec::new()).into(),
        };
        (peer, server)
    }

    async fn send(&mut self, f: impl FnOnce(&mut Open<Client>)) {
        f(self.ws.as_open().expect("peer is open"));
        let bytes = self.ws.take_outgoing();
        within("peer write", self.io.write_all(&bytes))
            .await
            .unwrap();
    }

    async fn close(&mut self, code: CloseCode, reason: &str) {
        self.ws.close(code, reason);
        let bytes = self.ws.take_outgoing();
        within("peer write", self.io.write_all(&bytes))
            .await
            .unwrap();
    }

    /// The next event the peer decodes; `None` at the end of the pipe.
    async fn event(&mut self) -> Option<Event> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(event) = self.ws.poll_event().unwrap() {
                return Some(event);
            }
            if self.ws.is_closed() {
                return None;
            }
            let n = within("peer read", self.io.read(&mut buf)).await.unwrap();
            if n == 0 {
                self.ws.receive_eof();
            } else {
                self.ws.receive(&buf[..n]).unwrap();
            }
        }
    }
}

// ---- echo ------------------------------------------------------------------

/// Echoes until the stream ends, feeding replies and letting `next()`
/// flush them: the batching loop the module docs recommend.
async fn echo<S>(mut ws: S) -> Result<(), Error>
where
    S: futures_util::Stream<Item = Result<Message, Error>>
        + futures_util::Sink<Message, Error = Error>
        + Unpin,
{
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.feed(message).await?;
        }
    }
    Ok(())
}

const SIZES: [usize; 6] = [0, 1, 125, 126, 65536, 1 << 20];

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn text(len: usize) -> String {
    (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect()
}

/// Sends every size as text and binary to an echoing peer, checks each
/// echo, then closes and reads to the end.
async fn round_trip_and_close<R: wsproto::Role>(ws: &mut WebSocketStream<DuplexStream, R>) {
    for size in SIZES {
        for message in [Message::text(text(size)), Message::binary(payload(size))] {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(next(ws).await, message, "{size}");
        }
    }
    ws.close(None).await.unwrap();
    let (rest, err) = drain(ws).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        rest,
        [Message::close(CloseCode::NORMAL, "")],
        "the peer echoes our close"
    );
}

#[tokio::test]
async fn echo_round_trip_in_both_roles() {
    // The client sends, the server echoes.
    let (mut client, server) = pair().await;
    let server = tokio::spawn(echo(server));
    round_trip_and_close(&mut client).await;
    within("server end", server).await.unwrap().unwrap();
    // The server sends, the client echoes.
    let (client, mut server) = pair().await;
    let client = tokio::spawn(echo(client));
    round_trip_and_close(&mut server).await;
    within("client end", client).await.unwrap().unwrap();
}

#[tokio::test]
async fn many_small_messages_are_batched_and_all_echoed() {
    let (client, mut server) = pair().await;
    let client = tokio::spawn(echo(client));
    let count = 10_000;
    for i in 0..count {
        server.feed(Message::text(i.to_string())).await.unwrap();
    }
    server.flush().await.unwrap();
    for i in 0..count {
        assert_eq!(next(&mut server).await, Message::text(i.to_string()));
    }
    server.close(None).await.unwrap();
    drain(&mut server).await;
    within("client end", client).await.unwrap().unwrap();
}

// ---- pings while only reading or only writing ------------------------------

#[tokio::test]
async fn pings_are_answered_while_the_application_only_reads() {
    let (mut peer, mut server) = RawPeer::with_server(64 * 1024, StreamConfig::default());
    let reader = tokio::spawn(async move {
        let (seen, err) = drain(&mut server).await;
        (seen, err)
    });
    peer.send(|ws| ws.send_ping(b"are you there").unwrap())
        .await;
    assert_eq!(
        peer.event().await,
        Some(Event::Pong(Bytes::from_static(b"are you there")))
    );
    peer.send(|ws| ws.send_ping(b"again").unwrap()).await;
    assert_eq!(
        peer.event().await,
        Some(Event::Pong(Bytes::from_static(b"again")))
    );
    drop(peer);
    let (seen, _) = within("reader", reader).await.unwrap();
    assert!(
        seen.contains(&Message::ping(&b"are you there"[..])),
        "{seen:?}"
    );
}

/// The server only sends (one message every few milliseconds) and never
/// reads; the peer's pings must still be answered.
async fn pings_answered_while_writing<S>(mut sink: S, mut peer: RawPeer)
where
    S: futures_util::Sink<Message, Error = Error> + Unpin + Send + 'static,
{
    let writer = tokio::spawn(async move {
        for i in 0u32.. {
            if sink.send(Message::text(i.to_string())).await.is_err() {
                return sink;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        unreachable!()
    });
    for round in 0..3 {
        let payload = format!("ping {round}");
        peer.send(|ws| ws.send_ping(payload.as_bytes()).unwrap())
            .await;
        loop {
            match peer.event().await {
                Some(Event::Pong(data)) => {
                    assert_eq!(data, payload.as_bytes());
                    break;
                }
                Some(Event::Text(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    }
    // The peer's close is answered by the writer alone, which then learns
    // that the connection is closed.
    peer.close(CloseCode::GOING_AWAY, "done").await;
    loop {
        match peer.event().await {
            Some(Event::Close(frame)) => {
                assert_eq!(frame.code, CloseCode::GOING_AWAY);
                break;
            }
            Some(Event::Text(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    within("writer sees the close", writer).await.unwrap();
}

#[tokio::test]
async fn pings_are_answered_while_the_application_only_writes() {
    let (peer, server) = RawPeer::with_server(64 * 1024, StreamConfig::default());
    pings_answered_while_writing(server, peer).await;
}

#[tokio::test]
async fn split_writer_alone_answers_pings_and_the_close() {
    let (peer, server) = RawPeer::with_server(64 * 1024, StreamConfig::default());
    let (reader, writer) = server.split();
    // The reader half lives, unpolled, for the whole test.
    pings_answered_while_writing(writer, peer).await;
    drop(reader);
}

#[tokio::test]
async fn split_halves_in_two_tasks_echo_and_close() {
    let (mut client, server) = pair().await;
    let (mut reader, mut writer) = server.split();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(16);
    let read_task = tokio::spawn(async move {
        while let Some(message) = reader.next().await {
            let message = message.unwrap();
            if message.is_text() && tx.send(message).await.is_err() {
                break;
            }
        }
        reader
    });
    let write_task = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            writer.send(message).await.unwrap();
        }
        writer
    });
    for i in 0..100 {
        client.send(Message::text(format!("m{i}"))).await.unwrap();
        client.send(Message::ping(vec![i as u8])).await.unwrap();
    }
    let mut texts = 0;
    let mut pongs = 0;
    while texts < 100 || pongs < 100 {
        match next(&mut client).await {
            Message::Text(t) => {
                assert_eq!(t, format!("m{texts}").as_str());
                texts += 1;
            }
            Message::Pong(p) => {
                assert_eq!(p[..], [pongs as u8]);
                pongs += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    client.close(None).await.unwrap();
    let (rest, err) = drain(&mut client).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(rest, [Message::close(CloseCode::NORMAL, "")]);
    let reader = within("reader", read_task).await.unwrap();
    let writer = within("writer", write_task).await.unwrap();
    let ws = reader.reunite(writer).expect("halves of one stream");
    assert!(ws.state().is_closed());
}

// ---- the close handshake ---------------------------------------------------

#[tokio::test]
async fn close_started_by_the_server_ends_both_streams() {
    let (mut client, mut server) = pair().await;
    server
        .send(Message::close(CloseCode::GOING_AWAY, "restart"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut client).await,
        Message::close(CloseCode::GOING_AWAY, "restart")
    );
    let ((rest, err), (server_rest, server_err)) =
        tokio::join!(drain(&mut client), drain(&mut server));
    assert!(rest.is_empty() && err.is_none(), "{rest:?} {err:?}");
    assert!(server_err.is_none(), "{server_err:?}");
    assert_eq!(
        server_rest,
        [Message::close(CloseCode::GOING_AWAY, "restart")]
    );
    // Used after the end: the sink says so.
    assert!(matches!(
        server.send(Message::text("late")).await,
        Err(Error::AlreadyClosed)
    ));
    assert!(matches!(
        client.send(Message::text("late")).await,
        Err(Error::ConnectionClosed)
    ));
    assert!(server.next().await.is_none());
}

#[tokio::test]
async fn messages_in_flight_after_our_close_are_still_read() {
    let (mut client, mut server) = pair().await;
    client.feed(Message::text("one")).await.unwrap();
    client.feed(Message::text("two")).await.unwrap();
    client.flush().await.unwrap();
    server.close(None).await.unwrap();
    let ((seen, err), (client_seen, client_err)) =
        tokio::join!(drain(&mut server), drain(&mut client));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        seen,
        [
            Message::text("one"),
            Message::text("two"),
            Message::close(CloseCode::NORMAL, "")
        ]
    );
    assert!(client_err.is_none(), "{client_err:?}");
    assert_eq!(client_seen, [Message::close(CloseCode::NORMAL, "")]);
}

#[tokio::test(start_paused = true)]
async fn close_timeout_against_a_peer_that_never_answers() {
    let config = StreamConfig::default().with_close_timeout(Duration::from_secs(3));
    let (mut peer, mut server) = RawPeer::with_server(64 * 1024, config);
    let started = tokio::time::Instant::now();
    server.close(None).await.unwrap();
    // The peer reads our close but never answers it.
    assert!(matches!(peer.event().await, Some(Event::Close(_))));
    let (seen, err) = drain(&mut server).await;
    assert!(seen.is_empty(), "{seen:?}");
    assert!(matches!(err, Some(Error::CloseTimeout)), "{err:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    // The transport was shut down: the peer reads its end.
    let mut rest = Vec::new();
    let n = within("peer eof", peer.io.read_to_end(&mut rest))
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert!(server.next().await.is_none());
    assert!(matches!(
        server.send(Message::text("late")).await,
        Err(Error::AlreadyClosed)
    ));
}

#[tokio::test(start_paused = true)]
async fn client_waits_for_the_server_to_end_the_transport_within_the_close_timeout() {
    let config = StreamConfig::default().with_close_timeout(Duration::from_secs(2));
    let (client_io, mut server_io) = tokio::io::duplex(64 * 1024);
    let mut client = WebSocketStream::from_open(
        client_io,
        Open::<Client>::new(Config::default(), Vec::new()),
        config,
    );
    // A server that answers the close but keeps the transport open.
    let mut server = Open::<Server>::new(Config::default(), Vec::new());
    let started = tokio::time::Instant::now();
    client.close(None).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = server_io.read(&mut buf).await.unwrap();
    server.receive(&buf[..n]).unwrap();
    assert!(matches!(server.poll_event(), Ok(Some(Event::Close(_)))));
    server_io.write_all(&server.take_outgoing()).await.unwrap();
    let (seen, err) = drain(&mut client).await;
    assert_eq!(seen, [Message::close(CloseCode::NORMAL, "")]);
    assert!(matches!(err, Some(Error::CloseTimeout)), "{err:?}");
    assert!(started.elapsed() >= Duration::from_secs(2));
}

// ---- keepalive ---------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn keepalive_fails_a_silent_peer_with_1011() {
    let config = StreamConfig::default()
        .with_keepalive(Duration::from_secs(10), Duration::from_secs(5))
        .with_close_timeout(Duration::from_secs(1));
    let (mut peer, mut server) = RawPeer::with_server(64 * 1024, config);
    let started = tokio::time::Instant::now();
    let reader = tokio::spawn(async move { drain(&mut server).await });
    // The peer reads the ping but never answers (auto_pong would: the pong
    // is queued in its core but never written).
    assert!(matches!(peer.event().await, Some(Event::Ping(_))));
    let pinged = started.elapsed();
    assert!(pinged >= Duration::from_secs(10), "{pinged:?}");
    match peer.event().await {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::INTERNAL_ERROR),
        other => panic!("{other:?}"),
    }
    let (seen, err) = within("reader", reader).await.unwrap();
    assert!(seen.is_empty(), "{seen:?}");
    assert!(matches!(err, Some(Error::KeepaliveTimeout)), "{err:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(15), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(17), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn keepalive_is_satisfied_by_pongs() {
    let config =
        StreamConfig::default().with_keepalive(Duration::from_secs(1), Duration::from_secs(1));
    let (mut client, server) = pair_with(64 * 1024, StreamConfig::default(), config).await;
    let server = tokio::spawn(async move {
        let mut server = server;
        loop {
            let got = next(&mut server).await;
            if !got.is_pong() {
                return (server, got);
            }
        }
    });
    // The client reads (so it answers pings) for 20 keepalive intervals.
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        tokio::select! {
            message = client.next() => match message {
                Some(Ok(Message::Ping(_))) => pings += 1,
                other => panic!("{other:?}"),
            },
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
    assert!(pings >= 15, "{pings} pings");
    client.send(Message::text("still here")).await.unwrap();
    let (_server, got) = within("server", server).await.unwrap();
    assert_eq!(got, Message::text("still here"));
}

// ---- back-pressure -------------------------------------------------------------

/// Feeds messages until `poll_ready` holds off; returns the bytes accepted.
async fn feed_until_blocked<S>(sink: &mut S, size: usize) -> usize
where
    S: futures_util::Sink<Message, Error = Error> + Unpin,
{
    let message = Message::binary(vec![7u8; size]);
    let mut accepted = 0;
    loop {
        match tokio::time::timeout(Duration::from_millis(200), sink.feed(message.clone())).await {
            Ok(result) => {
                result.unwrap();
                accepted += size;
            }
            Err(_) => return accepted,
        }
        assert!(accepted < 64 << 20, "never held off");
    }
}

#[tokio::test]
async fn back_pressure_bounds_what_a_peer_that_never_reads_costs() {
    let pipe = 16 * 1024;
    let high_water = 32 * 1024;
    let config = StreamConfig::default().with_write_high_water(high_water);
    for size in [10, 1000, 20_000] {
        let (peer, mut server) = RawPeer::with_server(pipe, config.clone());
        let accepted = feed_until_blocked(&mut server, size).await;
        // Everything accepted is in the pipe or in our queue: at most the
        // pipe, the mark and one message (plus frame headers).
        let bound = pipe + high_water + size + 4 * (accepted / size.max(1) + 1);
        assert!(accepted <= bound, "{size}: {accepted} > {bound}");
        assert!(accepted >= high_water, "{size}: {accepted}");
        drop(peer);
    }
}

#[tokio::test]
async fn a_ping_flood_from_a_peer_that_never_reads_is_bounded() {
    let pipe = 8 * 1024;
    let high_water = 16 * 1024;
    let config = StreamConfig::default().with_write_high_water(high_water);
    let (mut peer, mut server) = RawPeer::with_server(pipe, config);
    let reader = tokio::spawn(async move {
        let mut pings = 0usize;
        while let Some(Ok(message)) = server.next().await {
            assert!(message.is_ping());
            pings += 1;
        }
        pings
    });
    // 100-byte pings, each answered by a 102-byte pong the peer never reads.
    let ping = {
        let ws = peer.ws.as_open().unwrap();
        ws.send_ping(&[1u8; 100]).unwrap();
        ws.take_outgoing()
    };
    let mut sent = 0usize;
    while tokio::time::timeout(Duration::from_millis(200), peer.io.write_all(&ping))
        .await
        .is_ok()
    {
        sent += 1;
        assert!(sent < 100_000, "the server never stopped reading");
    }
    // What the server took: the pipe's worth of pongs, the mark, the pongs
    // of one read, and the pipe's worth of unread pings.
    let bound = (pipe + high_water + 64 * 1024 + pipe) / 100;
    assert!(sent <= bound, "{sent} pings taken, bound {bound}");
    drop(peer);
    let pings = within("reader", reader).await.unwrap();
    assert!(pings > 0);
}

// ---- cancellation ----------------------------------------------------------------

/// A future that is pending on its first poll and ready on the second.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Every third message spans many reads of a small pipe.
fn size_of_message(index: usize) -> usize {
    if index.is_multiple_of(3) {
        20_000
    } else {
        index
    }
}

#[tokio::test]
async fn reads_cancelled_by_select_lose_nothing() {
    // A small pipe, so large messages arrive over many reads and most
    // `next()` calls are cancelled midway.
    let (mut client, mut server) =
        pair_with(1024, StreamConfig::default(), StreamConfig::default()).await;
    let count = 200usize;
    let sender = tokio::spawn(async move {
        for i in 0..count {
            let mut data = payload(size_of_message(i));
            data.extend_from_slice(&(i as u32).to_be_bytes());
            server.feed(Message::binary(data)).await.unwrap();
        }
        server.flush().await.unwrap();
        server
    });
    let mut received = 0usize;
    let mut cancelled = 0usize;
    while received < count {
        tokio::select! {
            biased;
            message = client.next() => {
                let data = message.unwrap().unwrap().into_data();
                let (body, index) = data.split_at(data.len() - 4);
                assert_eq!(index, (received as u32).to_be_bytes(), "message lost or reordered");
                assert_eq!(body, &payload(size_of_message(received))[..]);
                received += 1;
            }
            () = YieldOnce(false) => cancelled += 1,
        }
    }
    assert!(cancelled > 100, "only {cancelled} reads were cancelled");
    let mut server = within("sender", sender).await.unwrap();
    server.close(None).await.unwrap();
    let ((_, client_err), (_, server_err)) = tokio::join!(drain(&mut client), drain(&mut server));
    assert!(
        client_err.is_none() && server_err.is_none(),
        "{client_err:?} {server_err:?}"
    );
}

// ---- reunite -----------------------------------------------------------------------

#[tokio::test]
async fn reunite_checks_that_the_halves_match() {
    let (client_a, _server_a) = pair().await;
    let (client_b, _server_b) = pair().await;
    let (read_a, write_a) = client_a.split();
    let (read_b, write_b) = client_b.split();
    assert!(read_a.is_pair_of(&write_a) && !read_a.is_pair_of(&write_b));
    let err = read_a.reunite(write_b).unwrap_err();
    let stream::ReuniteError(read_a, write_b) = err;
    let mut client_a = read_a.reunite(write_a).unwrap();
    let _client_b = read_b.reunite(write_b).unwrap();
    client_a.send(Message::text("whole again")).await.unwrap();
}

// ---- handshakes ----------------------------------------------------------------------

#[tokio::test]
async fn frames_behind_the_request_are_not_lost() {
    let (mut client_io, server_io) = tokio::io::duplex(64 * 1024);
    let request = http::Request::get("ws://localhost/").body(()).unwrap();
    let (_pending, request) =
        Pending::<Client>::new(request, Config::default(), Vec::new()).unwrap();
    let mut frames = Open::<Client>::new(Config::default(), Vec::new());
    frames.send_text("first").unwrap();
    frames.send_binary(b"second").unwrap();
    let mut bytes = request.to_vec();
    bytes.extend_from_slice(&frames.take_outgoing());
    client_io.write_all(&bytes).await.unwrap();
    let mut server = within("accept", stream::accept(server_io)).await.unwrap();
    assert_eq!(next(&mut server).await, Message::text("first"));
    assert_eq!(next(&mut server).await, Message::binary(&b"second"[..]));
}

/// `accept_with` with the default settings and `decide`.
async fn accept_deciding(
    io: DuplexStream,
    decide: impl FnOnce(
        &wsproto::handshake::IncomingRequest,
    ) -> Result<Accept, Box<http::Response<Bytes>>>,
) -> Result<WebSocketStream<DuplexStream, Server>, Error> {
    stream::accept_with(
        io,
        Config::default(),
        Vec::new(),
        StreamConfig::default(),
        decide,
    )
    .await
}

#[tokio::test]
async fn rejection_reaches_the_client_with_status_and_body() {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = accept_deciding(server_io, |request| {
        assert_eq!(request.request().uri().path(), "/private");
        Err(Box::new(
            http::Response::builder()
                .status(403)
                .body(Bytes::from_static(b"members only"))
                .unwrap(),
        ))
    });
    let request = http::Request::get("ws://localhost/private")
        .body(())
        .unwrap();
    let client = stream::client_async(request, client_io);
    let (server, client) = tokio::join!(server, client);
    match server {
        Err(Error::Rejected(response)) => assert_eq!(response.status(), 403),
        other => panic!("{other:?}"),
    }
    match client {
        Err(Error::Rejected(response)) => {
            assert_eq!(response.status(), 403);
            assert_eq!(&response.body()[..], b"members only");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_request_is_answered_with_its_status() {
    let (mut client_io, server_io) = tokio::io::duplex(64 * 1024);
    client_io
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let err = within("accept", stream::accept(server_io))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Handshake(e) if e.status == 400),
        "{err:?}"
    );
    let mut answer = String::new();
    client_io.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[tokio::test]
async fn subprotocol_is_negotiated_and_reported() {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = accept_deciding(server_io, |request| {
        assert_eq!(request.subprotocols(), ["chat", "superchat"]);
        Ok(Accept::new().subprotocol("superchat"))
    });
    let request = http::Request::get("ws://localhost/")
        .header("sec-websocket-protocol", "chat, superchat")
        .body(())
        .unwrap();
    let (server, client) = tokio::join!(server, stream::client_async(request, client_io));
    let (client, response) = client.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "superchat");
    assert_eq!(client.subprotocol(), Some("superchat"));
    assert_eq!(server.unwrap().subprotocol(), Some("superchat"));
}

#[tokio::test]
async fn protocol_error_sends_its_close_code_and_ends_the_stream() {
    let (mut peer, mut server) = RawPeer::with_server(64 * 1024, StreamConfig::default());
    // An unmasked frame from a client: RFC 6455 §5.1 says fail with 1002.
    within("peer write", peer.io.write_all(b"\x81\x02hi"))
        .await
        .unwrap();
    let (seen, err) = drain(&mut server).await;
    assert!(seen.is_empty());
    match err {
        Some(Error::Protocol(err)) => assert_eq!(err.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    match peer.event().await {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
}

// ---- over TCP, with tokio-tungstenite as the peer ------------------------------------

#[tokio::test]
async fn our_server_with_a_tokio_tungstenite_client_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        echo(stream::accept(tcp).await.unwrap()).await
    });
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    for size in SIZES {
        ws.send(tungstenite::Message::text(text(size)))
            .await
            .unwrap();
        let got = within("echo", ws.next()).await.unwrap().unwrap();
        assert_eq!(got, tungstenite::Message::text(text(size)));
    }
    ws.send(tungstenite::Message::Ping(Bytes::from_static(b"tung")))
        .await
        .unwrap();
    let got = within("pong", ws.next()).await.unwrap().unwrap();
    assert_eq!(got, tungstenite::Message::Pong(Bytes::from_static(b"tung")));
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = within("close", ws.next()).await {}
    within("server", server).await.unwrap().unwrap();
}

#[tokio::test]
async fn our_client_with_a_tokio_tungstenite_server_over_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        // Ping first: our client answers while it only writes.
        ws.send(tungstenite::Message::Ping(Bytes::from_static(b"hello?")))
            .await
            .unwrap();
        let mut pong = false;
        while let Some(message) = ws.next().await {
            match message.unwrap() {
                tungstenite::Message::Pong(data) => {
                    assert_eq!(&data[..], b"hello?");
                    pong = true;
                }
                m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_)) => {
                    ws.send(m).await.unwrap();
                }
                _ => {}
            }
        }
        pong
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let request = http::Request::get(format!("ws://{addr}/"))
        .body(())
        .unwrap();
    let (mut ws, _) = stream::client_async(request, tcp).await.unwrap();
    for size in SIZES {
        ws.send(Message::binary(payload(size))).await.unwrap();
    }
    for size in SIZES {
        let got = next(&mut ws).await;
        let got = if got.is_ping() {
            next(&mut ws).await
        } else {
            got
        };
        assert_eq!(got, Message::binary(payload(size)));
    }
    ws.close(None).await.unwrap();
    let (_, err) = drain(&mut ws).await;
    assert!(err.is_none(), "{err:?}");
    assert!(
        within("server", server).await.unwrap(),
        "no pong reached tungstenite"
    );
}

// ---- frame mode: a relay between two streams ------------------------------------------

/// Forwards every `Message::Frame` one stream yields into the other, both
/// ways, until the client's leg ends; then closes the backend's leg.
/// Returns how many frames (or pieces of frames) went each way.
async fn relay_frames(
    mut front: WebSocketStream<TcpStream, Server>,
    mut back: WebSocketStream<TcpStream, Client>,
) -> (usize, usize) {
    let (mut up, mut down) = (0, 0);
    loop {
        tokio::select! {
            message = front.next() => match message {
                Some(Ok(Message::Frame(frame))) => {
                    up += 1;
                    back.send(Message::Frame(frame)).await.unwrap();
                }
                // Pings and the close are answered by the leg itself.
                Some(Ok(_)) => {}
                Some(Err(err)) => panic!("client leg: {err}"),
                None => break,
            },
            message = back.next() => match message {
                Some(Ok(Message::Frame(frame))) => {
                    down += 1;
                    front.send(Message::Frame(frame)).await.unwrap();
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => panic!("backend leg: {err}"),
                None => panic!("the backend ended first"),
            },
        }
    }
    back.close(None).await.unwrap();
    let (_, err) = drain(&mut back).await;
    assert!(err.is_none(), "{err:?}");
    (up, down)
}

/// `MessageMode::Frames` on the adapter: the stream yields each data frame
/// (or the piece of it one read brought) as `Message::Frame`, and the sink
/// forwards it with `send_frame`. tokio-tungstenite at both ends sees its
/// messages whole: large ones relayed in pieces, fragmented ones, text split
/// inside a character.
#[tokio::test]
async fn a_relay_forwards_frames_between_two_streams() {
    let backend = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_addr = backend.local_addr().unwrap();
    let backend = tokio::spawn(async move {
        let (tcp, _) = backend.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        while let Some(message) = ws.next().await {
            let message = message.unwrap();
            if message.is_text() || message.is_binary() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front_addr = front.local_addr().unwrap();
    let relay = tokio::spawn(async move {
        let frames = Config::default().with_message_mode(wsproto::MessageMode::Frames);
        // Small reads, so that large frames arrive, and go on, in pieces.
        let small_reads = StreamConfig::default().with_read_size(4096);
        let (tcp, _) = front.accept().await.unwrap();
        let front =
            stream::accept_with(tcp, frames.clone(), Vec::new(), small_reads.clone(), |_| {
                Ok(Accept::new())
            })
            .await
            .unwrap();
        let tcp = TcpStream::connect(backend_addr).await.unwrap();
        let request = http::Request::get(format!("ws://{backend_addr}/"))
            .body(())
            .unwrap();
        let (back, _) = stream::client_async_with(request, tcp, frames, Vec::new(), small_reads)
            .await
            .unwrap();
        relay_frames(front, back).await
    });

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{front_addr}/"))
        .await
        .unwrap();
    let mut messages = 0;
    for size in SIZES {
        for message in [
            tungstenite::Message::text(text(size)),
            tungstenite::Message::binary(payload(size)),
        ] {
            ws.send(message.clone()).await.unwrap();
            let got = within("echo through the relay", ws.next())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(got, message);
            messages += 1;
        }
    }
    // A fragmented text message whose "é" is split between its frames.
    let (first, last) = ("caf\u{e9} au lait".as_bytes()).split_at(4);
    for (i, piece) in [first, last].into_iter().enumerate() {
        let frame = tungstenite::protocol::frame::Frame::message(
            piece.to_vec(),
            if i == 0 {
                tungstenite::protocol::frame::coding::OpCode::Data(
                    tungstenite::protocol::frame::coding::Data::Text,
                )
            } else {
                tungstenite::protocol::frame::coding::OpCode::Data(
                    tungstenite::protocol::frame::coding::Data::Continue,
                )
            },
            i == 1,
        );
        ws.send(tungstenite::Message::Frame(frame)).await.unwrap();
    }
    let got = within("fragmented echo", ws.next()).await.unwrap().unwrap();
    assert_eq!(got, tungstenite::Message::text("caf\u{e9} au lait"));
    messages += 1;

    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = within("close", ws.next()).await {}
    let (up, down) = within("relay", relay).await.unwrap();
    // Each message went both ways; a 1 MiB frame takes at least 16 reads.
    assert!(up > 2 * messages, "{up} frames up for {messages} messages");
    assert!(
        down >= messages,
        "{down} frames down for {messages} messages"
    );
    within("backend", backend).await.unwrap();
}
