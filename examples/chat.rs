//! A broadcast chat server: every text message a client sends goes to every
//! client connected (the sender too), so each sees one order of messages.
//!
//! ```text
//! cargo run --release --example chat --features tokio -- [ADDR]   # default 127.0.0.1:9004
//! ```
//!
//! Each connection is [`split`](wsproto::stream::WebSocketStream::split):
//! its reader stays in the connection's task, and its writer moves to a task
//! of its own that drains a bounded queue of [`QUEUE`] messages. Broadcasting
//! never waits for a client: it `try_send`s into each queue. A client whose
//! queue is full (it reads slower than the room talks) is dropped from the
//! room and disconnected at once, rather than skipped: skipping would leave
//! it with holes in the conversation it cannot see, and waiting would let it
//! stall everyone. The payload is shared, not copied, between the queues.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use wsproto::Server;
use wsproto::stream::{self, Message, WriteHalf};

/// Messages queued for one client before it counts as too slow.
pub const QUEUE: usize = 64;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat listening on ws://{}/", listener.local_addr()?);
    serve(listener).await
}

/// Accepts clients into one room until the listener fails.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    let room = Room::default();
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(client(tcp, room.clone()));
    }
}

/// One member's way in: its queue, and the signal that drops it.
struct Member {
    queue: mpsc::Sender<Message>,
    drop_it: oneshot::Sender<()>,
}

/// Everyone connected. The lock is never held across an `.await`.
#[derive(Clone, Default)]
struct Room {
    members: Arc<Mutex<HashMap<u64, Member>>>,
    next_id: Arc<Mutex<u64>>,
}

impl Room {
    fn join(&self, member: Member) -> u64 {
        let mut next = self.next_id.lock().unwrap_or_else(PoisonError::into_inner);
        *next += 1;
        let id = *next;
        self.lock().insert(id, member);
        id
    }

    fn leave(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Queues `message` for everyone; drops whoever has no room left.
    fn broadcast(&self, message: &Message) {
        let mut members = self.lock();
        let slow: Vec<u64> = members
            .iter()
            .filter(|(_, member)| member.queue.try_send(message.clone()).is_err())
            .map(|(id, _)| *id)
            .collect();
        for id in slow {
            if let Some(member) = members.remove(&id) {
                eprintln!("chat: client {id} is too slow; dropping it");
                let _ = member.drop_it.send(());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs one client: the handshake, then its reader here and its writer in
/// a task of its own.
async fn client(tcp: TcpStream, room: Room) {
    let _ = tcp.set_nodelay(true);
    let Ok(ws) = stream::accept(tcp).await else {
        return;
    };
    let (mut reader, writer) = ws.split();
    let (queue, outbox) = mpsc::channel(QUEUE);
    let (drop_it, mut dropped) = oneshot::channel();
    let id = room.join(Member { queue, drop_it });
    let writing = tokio::spawn(write_loop(writer, outbox));
    loop {
        tokio::select! {
            message = reader.next() => match message {
                Some(Ok(message @ Message::Text(_))) => room.broadcast(&message),
                Some(Ok(_)) => {} // pings are answered by the stream
                Some(Err(_)) | None => break,
            },
            // Too slow: dropping both halves closes the connection.
            _ = &mut dropped => break,
        }
    }
    room.leave(id);
    writing.abort();
}

/// Writes what the room queues for one client: all that is waiting in one
/// write, then waits for more.
async fn write_loop(mut writer: WriteHalf<TcpStream, Server>, mut outbox: mpsc::Receiver<Message>) {
    while let Some(message) = outbox.recv().await {
        if writer.feed(message).await.is_err() {
            return;
        }
        while let Ok(message) = outbox.try_recv() {
            if writer.feed(message).await.is_err() {
                return;
            }
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
}
