//! `examples/chat.rs`, compiled in here: two clients exchange messages, and
//! a client that never reads is dropped without stalling the others.

mod async_client;

#[path = "../examples/chat.rs"]
#[allow(dead_code)]
mod chat;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpSocket};
use wsproto::stream::Message;

use async_client::STEP;

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
    const MESSAGES: usize = 300;
    const SIZE: usize = 64 * 1024;
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
    let listener = tokio::spawn(async move {
        let mut listener = listener;
        let mut seen = 0;
        while seen < MESSAGES {
            let message = async_client::next(&mut listener).await;
            if message.len() == SIZE {
                assert_eq!(message.to_text().unwrap(), text(seen));
                seen += 1;
            }
        }
    });
    // The talker's reader runs apart from its writer: `split`.
    let (mut talker_reader, mut talker_writer) = talker.split();
    let talker_reads = tokio::spawn(async move {
        let mut seen = 0;
        while seen < MESSAGES {
            let message = tokio::time::timeout(STEP, talker_reader.next())
                .await
                .expect("the room keeps talking")
                .expect("the connection stays")
                .expect("no error");
            if message.len() == SIZE {
                seen += 1;
            }
        }
    });
    for i in 0..MESSAGES {
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

/// Message `i`: `SIZE` bytes of text that say which one it is.
fn text(i: usize) -> String {
    let mut text = format!("message {i} ");
    text.extend(std::iter::repeat_n('.', 64 * 1024 - text.len()));
    text
}
