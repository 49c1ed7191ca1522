//! The Autobahn|Testsuite client driver: asks the fuzzing server how many
//! cases there are, runs each one echoing every message back, then asks it
//! to write the reports.
//!
//! ```text
//! cargo run --release --example autobahn_client -- [URL] [AGENT]
//! # defaults: ws://127.0.0.1:9001 wsproto
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;

use wsproto::handshake::ClientHandshake;
use wsproto::{Client, Config, Event, Open, Pending};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let agent = args.next().unwrap_or_else(|| "wsproto".to_owned());

    let mut count = String::new();
    run(&format!("{base}/getCaseCount"), |event, _| {
        if let Event::Text(text) = event {
            count = text.to_string();
        }
    })?;
    let count: u32 = count.trim().parse()?;
    eprintln!("running {count} cases");
    for case in 1..=count {
        run(
            &format!("{base}/runCase?case={case}&agent={agent}"),
            |event, ws| {
                // Errors here mean the connection is closing; the loop ends it.
                let _ = match event {
                    Event::Text(text) => ws.send_text(&text),
                    Event::Binary(data) => ws.send_binary(&data),
                    _ => Ok(()),
                };
            },
        )?;
    }
    run(&format!("{base}/updateReports?agent={agent}"), |_, _| {})?;
    eprintln!("reports updated");
    Ok(())
}

/// Connects to `url` and feeds every event to `on_event` until the
/// connection closes.
fn run(
    url: &str,
    mut on_event: impl FnMut(Event, &mut Open<Client>),
) -> Result<(), Box<dyn std::error::Error>> {
    let uri: http::Uri = url.parse()?;
    let authority = uri.authority().ok_or("URL has no host")?;
    let mut stream = TcpStream::connect((authority.host(), authority.port_u16().unwrap_or(80)))?;
    stream.set_nodelay(true)?;
    let config = Config::default();
    let (mut pending, request) = Pending::<Client>::from_url(url, config, client_extensions())?;
    stream.write_all(&request)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut ws = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err("connection closed during the handshake".into());
        }
        match pending.receive(&buf[..n])? {
            ClientHandshake::Pending(p) => pending = p,
            ClientHandshake::Open(ws, _) => break ws,
            ClientHandshake::Rejected(r) => {
                return Err(format!("rejected: {}", r.response().status()).into());
            }
        }
    };
    loop {
        // A protocol error ends the loop; its close frame is already queued.
        while let Ok(Some(event)) = ws.poll_event() {
            on_event(event, &mut ws);
        }
        let out = ws.take_outgoing();
        if !out.is_empty() && stream.write_all(&out).is_err() {
            return Ok(());
        }
        if ws.is_closed() {
            return Ok(());
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => ws.receive_eof(),
            Ok(n) => ws.receive(&buf[..n])?,
        }
    }
}

fn client_extensions() -> Vec<Box<dyn wsproto::extensions::Extension>> {
    use wsproto::extensions::{DeflateConfig, PerMessageDeflate};
    vec![Box::new(PerMessageDeflate::new(DeflateConfig::default()))]
}
