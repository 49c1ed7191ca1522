//! Interoperability with an independent implementation, tungstenite, over
//! real sockets on 127.0.0.1: tungstenite's client against our echo server,
//! and our client against tungstenite's echo server. Both cover every
//! frame-length encoding, ping/pong and the close handshake.

#[path = "../examples/support/echo.rs"]
mod echo;
mod sockets;

use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use sockets::{SIZES, binary_of, connect, flush, next_event, read_to_eof, text_of};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as TungCloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as TungCloseCode;
use wsproto::{CloseCode, Event, MessageKind};

/// The next message tungstenite's client reads, within the test timeout.
async fn tung_next<S>(ws: &mut S) -> Option<Message>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(sockets::TIMEOUT, ws.next())
        .await
        .expect("timed out waiting for tungstenite")
        .map(|m| m.expect("tungstenite error"))
}

#[tokio::test]
async fn tungstenite_client_against_our_server() {
    let addr = echo::Echo::default().spawn("127.0.0.1:0").await.unwrap();
    let (mut ws, response) = tokio_tungstenite::connect_async(format!("ws://{addr}/echo"))
        .await
        .unwrap();
    assert_eq!(response.status(), 101);

    for size in SIZES {
        let text = text_of(size);
        ws.send(Message::text(text.clone())).await.unwrap();
        assert_eq!(
            tung_next(&mut ws).await,
            Some(Message::text(text)),
            "text {size}"
        );
        let data = binary_of(size);
        ws.send(Message::binary(data.clone())).await.unwrap();
        assert_eq!(
            tung_next(&mut ws).await,
            Some(Message::binary(data)),
            "binary {size}"
        );
    }

    let payload = Bytes::from_static(b"are you there?");
    ws.send(Message::Ping(payload.clone())).await.unwrap();
    assert_eq!(tung_next(&mut ws).await, Some(Message::Pong(payload)));
    // A ping with the largest control payload (RFC 6455 §5.5: 125 bytes).
    let payload = Bytes::from(vec![0xA5; 125]);
    ws.send(Message::Ping(payload.clone())).await.unwrap();
    assert_eq!(tung_next(&mut ws).await, Some(Message::Pong(payload)));

    ws.close(Some(TungCloseFrame {
        code: TungCloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    match tung_next(&mut ws).await {
        Some(Message::Close(Some(frame))) => assert_eq!(frame.code, TungCloseCode::Normal),
        other => panic!("expected the close reply, got {other:?}"),
    }
    // The close handshake is over and our server closed the transport.
    assert_eq!(tung_next(&mut ws).await, None);
}

/// A tokio-tungstenite echo server on 127.0.0.1. A text message "close"
/// makes it start the close handshake itself, with 1001.
async fn spawn_tungstenite_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if message.to_text().ok() == Some("close") {
                        let frame = TungCloseFrame {
                            code: TungCloseCode::Away,
                            reason: "going away".into(),
                        };
                        if ws.close(Some(frame)).await.is_err() {
                            return;
                        }
                    } else if (message.is_text() || message.is_binary())
                        && ws.send(message).await.is_err()
                    {
                        return;
                    }
                    // Pings are answered and close frames replied to by
                    // tungstenite itself.
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn our_client_against_tungstenite_server() {
    let addr = spawn_tungstenite_echo().await;
    let (mut stream, mut ws) = connect(addr, "/echo?x=1").await;

    for size in SIZES {
        let text = text_of(size);
        ws.send_text(&text).unwrap();
        flush(&mut stream, &mut ws).await;
        match next_event(&mut stream, &mut ws).await {
            Some(Event::Text(echo)) => assert!(echo == text.as_str(), "text {size}"),
            other => panic!("text {size}: got {other:?}"),
        }
        let data = binary_of(size);
        ws.send_binary(&data).unwrap();
        flush(&mut stream, &mut ws).await;
        assert_eq!(
            next_event(&mut stream, &mut ws).await,
            Some(Event::Binary(data.into())),
            "binary {size}"
        );
    }

    // A fragmented message, split inside a multi-byte character: tungstenite
    // reassembles and echoes it whole.
    let text = "fragmented \u{1F600} message";
    let bytes = text.as_bytes();
    ws.send_fragment(MessageKind::Text, &bytes[..12], false)
        .unwrap();
    ws.send_fragment(MessageKind::Text, &bytes[12..14], false)
        .unwrap();
    ws.send_fragment(MessageKind::Text, &bytes[14..], true)
        .unwrap();
    flush(&mut stream, &mut ws).await;
    assert_eq!(
        next_event(&mut stream, &mut ws).await,
        Some(Event::Text(text.into()))
    );

    ws.send_ping(b"ping from wsproto").unwrap();
    flush(&mut stream, &mut ws).await;
    assert_eq!(
        next_event(&mut stream, &mut ws).await,
        Some(Event::Pong(Bytes::from_static(b"ping from wsproto")))
    );

    let mut closing = ws.close(CloseCode::NORMAL, "bye");
    flush(&mut stream, &mut closing).await;
    match next_event(&mut stream, &mut closing).await {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the close reply, got {other:?}"),
    }
    assert_eq!(next_event(&mut stream, &mut closing).await, None);
    assert!(read_to_eof(&mut stream).await.is_empty());
    let closed = closing.into_closed().expect("close handshake complete");
    assert!(closed.was_clean());
}

#[tokio::test]
async fn tungstenite_server_starts_the_close() {
    let addr = spawn_tungstenite_echo().await;
    let (mut stream, mut ws) = connect(addr, "/").await;
    ws.send_text("close").unwrap();
    flush(&mut stream, &mut ws).await;
    match next_event(&mut stream, &mut ws).await {
        Some(Event::Close(frame)) => {
            assert_eq!(frame.code, CloseCode::GOING_AWAY);
            assert!(frame.reason == "going away");
        }
        other => panic!("expected the server's close, got {other:?}"),
    }
    // Our reply was queued automatically; sending data is now refused.
    assert_eq!(ws.send_text("late"), Err(wsproto::LocalError::Closed));
    assert_eq!(next_event(&mut stream, &mut ws).await, None);
    assert!(ws.is_closed());
    assert!(read_to_eof(&mut stream).await.is_empty());
}
