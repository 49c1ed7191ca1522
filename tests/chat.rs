//! `examples/chat.rs`, compiled in here: two clients exchange messages, and
//! a client that never reads is dropped without stalling the others.

mod async_client;

#[path = "../examples/chat.rs"]
#[allow(dead_code)]
mod chat;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;
use wsproto::stream::Message;

use async_client::STEP;

/// How many messages the talker sends, and their size.
const MESSAGES: usize = 300;
const SIZE: usize = 64 * 1024;

async fn chat_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(chat::serve(listener));
    addr
}

type Chatter = wsproto::stream::WebSocketStream<
    wsproto::connect::MaybeTlsStream<tokio::net::TcpStream>,
    wsproto::Client,
>;

/// The next text message, within [`STEP`].
async fn next_text(ws: &mut Chatter) -> String {
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a message in time")
        {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(_)) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Joins the room: says hello and waits to hear it back, so the server has
/// seen this client before the test goes on.
async fn join(addr: SocketAddr, name: &str) -> Chatter {
    let (mut ws, _) = wsproto::connect(&format!("ws://{addr}/")).await.unwrap();
    let hello = format!("{name} joined");
    ws.send(Message::text(hello.clone())).await.unwrap();
    while next_text(&mut ws).await != hello {}
    ws
}

#[tokio::test]
async fn two_clients_exchange_messages() {
    let addr = chat_server().await;
    let mut alice = join(addr, "alice").await;
    let mut bob = join(addr, "bob").await;
    assert_eq!(next_text(&mut alice).await, "bob joined");

    alice.send(Message::text("hi bob")).await.unwrap();
    assert_eq!(next_text(&mut bob).await, "hi bob");
    assert_eq!(next_text(&mut alice).await, "hi bob");
    bob.send(Message::text("hi alice")).await.unwrap();
    assert_eq!(next_text(&mut alice).await, "hi alice");
    assert_eq!(next_text(&mut bob).await, "hi alice");

    // Alice leaves; Bob still talks to the room (himself).
    alice.close(None).await.unwrap();
    while tokio::time::timeout(STEP, alice.next())
        .await
        .unwrap()
        .is_some()
    {}
    bob.send(Message::text("anyone?")).await.unwrap();
    assert_eq!(next_text(&mut bob).await, "anyone?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_stall_the_others() {
    let addr = chat_server().await;

    // A client with a tiny receive buffer that, once joined, never reads.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let request = http::Request::get(format!("ws://{addr}/"))
        .body(())
        .unwrap();
    let (mut sleeper, _) = wsproto::stream::client_async(request, tcp).await.unwrap();
    sleeper.send(Message::text("zzz")).await.unwrap();
    loop {
        let message = tokio::time::timeout(STEP, sleeper.next()).await.unwrap();
        if message.unwrap().unwrap() == Message::text("zzz") {
            break;
        }
    }

    // Two clients that read everything, each in a task of its own; one of
    // them also talks, from another task.
    let listener = join(addr, "listener").await;
    let talker = join(addr, "talker").await;
    // The talker runs at the pace of its readers: it may be at most WINDOW
    // messages ahead of what each of them has heard. They read as fast as
    // they can; the sleeper's queue fills all the same.
    const WINDOW: usize = 8;
    let heard_by_listener = Arc::new(Semaphore::new(WINDOW));
    let heard_by_talker = Arc::new(Semaphore::new(WINDOW));
    let listener = tokio::spawn(read_all(listener, Arc::clone(&heard_by_listener)));
    // The talker's reader runs apart from its writer: `split`.
    let (talker_reader, mut talker_writer) = talker.split();
    let talker_reads = tokio::spawn(read_all(talker_reader, Arc::clone(&heard_by_talker)));
    for i in 0..MESSAGES {
        heard_by_listener.acquire().await.unwrap().forget();
        heard_by_talker.acquire().await.unwrap().forget();
        talker_writer.send(Message::text(text(i))).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(60), talker_reads)
        .await
        .expect("the talker hears everything")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), listener)
        .await
        .expect("the listener hears everything")
        .unwrap();

    // The sleeper was dropped: reading now finds the end, before all the
    // messages were sent to it.
    let mut received = 0;
    loop {
        match tokio::time::timeout(STEP, sleeper.next()).await.unwrap() {
            Some(Ok(message)) if message.len() == SIZE => received += 1,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    assert!(received < MESSAGES, "the sleeper got all {received}");
}

/// Reads the talk's `MESSAGES` messages in order, releasing a permit of
/// `heard` for each.
async fn read_all<S>(mut reader: S, heard: Arc<Semaphore>)
where
    S: futures_util::Stream<Item = Result<Message, wsproto::stream::Error>> + Unpin,
{
    let mut seen = 0;
    while seen < MESSAGES {
        let message = tokio::time::timeout(STEP, reader.next())
            .await
            .expect("the room keeps talking")
            .expect("the connection stays")
            .expect("no error");
        if message.len() == SIZE {
            assert_eq!(message.to_text().unwrap(), text(seen));
            seen += 1;
            heard.add_permits(1);
        }
    }
}

/// Message `i`: `SIZE` bytes of text that say which one it is.
fn text(i: usize) -> String {
    let mut text = format!("message {i} ");
    text.extend(std::iter::repeat_n('.', SIZE - text.len()));
    text
}
