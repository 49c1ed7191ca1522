//! Steps shared by the tests that drive a client `WebSocketStream`: the next
//! message within a time limit, echo round trips, and the close handshake
//! to the end of the stream.
#![allow(dead_code)] // each test binary uses its own share

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use wsproto::stream::{Message, WebSocketStream};
use wsproto::{Client, CloseCode};

/// How long one step may take.
pub const STEP: Duration = Duration::from_secs(10);

/// Sizes that cover every payload-length encoding (RFC 6455 §5.2).
pub const SIZES: [usize; 8] = [0, 1, 125, 126, 127, 65535, 65536, 1 << 20];

/// The next message, within [`STEP`]; panics on the end or an error.
pub async fn next<IO>(ws: &mut WebSocketStream<IO, Client>) -> Message
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    tokio::time::timeout(STEP, ws.next())
        .await
        .expect("a message in time")
        .expect("the connection goes on")
        .expect("no error")
}

/// Text of `size` characters, multi-byte ones included.
pub fn text_of(size: usize) -> String {
    "wsproto κόσμε ".chars().cycle().take(size).collect()
}

/// `size` bytes of every value.
pub fn binary_of(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + 3) as u8).collect()
}

/// Sends text and binary messages of every size in [`SIZES`] and checks
/// that each comes back the same.
pub async fn echo_round_trips<IO>(ws: &mut WebSocketStream<IO, Client>)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    for size in SIZES {
        let text = text_of(size);
        ws.send(Message::text(text.clone())).await.unwrap();
        assert_eq!(next(ws).await, Message::text(text), "text {size}");
        let data = binary_of(size);
        ws.send(Message::binary(data.clone())).await.unwrap();
        assert_eq!(next(ws).await, Message::binary(data), "binary {size}");
    }
}

/// Closes with 1000, expects the peer's 1000 reply, then the end of the
/// stream.
pub async fn close_to_the_end<IO>(ws: &mut WebSocketStream<IO, Client>)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    ws.close(None).await.unwrap();
    match next(ws).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the close reply, got {other:?}"),
    }
    let end = tokio::time::timeout(STEP, ws.next())
        .await
        .expect("the end in time");
    assert!(end.is_none(), "expected the end, got {end:?}");
}
