//! An interactive client on [`wsproto::connect`]: sends each line of
//! standard input as a text message and prints each message it receives on
//! its own line (binary ones as hex).
//!
//! ```text
//! cargo run --example client --features tokio -- ws://127.0.0.1:9001/
//! cargo run --example client --features rustls -- wss://example.com/
//! ```
//!
//! When standard input ends, the client closes with 1000 and waits (within
//! the stream's close timeout) for the server's reply. It exits non-zero,
//! with the reason on standard error, when connecting fails, the server
//! breaks the protocol, or the connection ends other than by a close
//! handshake with 1000.

use std::fmt::Write as _;
use std::process::ExitCode;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use wsproto::CloseCode;
use wsproto::stream::Message;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: client URL    (e.g. ws://127.0.0.1:9001/)");
        return ExitCode::from(2);
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("client: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), Error> {
    let (mut ws, _response) = wsproto::connect(url).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut typing = true;
    let mut close_code = None;
    loop {
        tokio::select! {
            // Both branches are cancellation-safe: a line or a message that
            // loses the race is not lost.
            line = lines.next_line(), if typing => match line? {
                Some(line) => ws.send(Message::text(line)).await?,
                None => {
                    typing = false;
                    ws.close(None).await?; // then read on, up to the reply
                }
            },
            message = ws.next() => match message.transpose()? {
                Some(Message::Text(text)) => println!("{text}"),
                Some(Message::Binary(data)) => println!("{}", hex(&data)),
                Some(Message::Close(frame)) => close_code = Some(frame.map_or(CloseCode::NO_STATUS_RCVD, |f| f.code)),
                Some(_) => {} // pings are answered by the stream itself
                None => break,
            },
        }
    }
    match close_code {
        Some(CloseCode::NORMAL) => Ok(()),
        Some(code) => Err(format!("the server closed with {code}").into()),
        None => Err("the connection ended without a close handshake".into()),
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
