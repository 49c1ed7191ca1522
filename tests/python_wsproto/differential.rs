//! The differential test: the same scripts of steps (send an event, receive
//! bytes, the end of the transport) run through `wsproto::compat` and
//! through Python wsproto 1.3.2 (`tests/python/wsproto_diff.py`, in the
//! venv of `tests/python/`), for both roles. After each step both report
//! the bytes to send, the events, the error raised and the state, as JSON;
//! the two must agree. The masking key is fixed on both sides (01 02 03 04).
//!
//! Normalized before comparing, each a deliberate difference (see
//! `docs/PORTING-FROM-PYTHON.md`): HTTP heads are compared as status (or
//! method and target) and a set of headers, without the random
//! `Sec-WebSocket-Key`, the reason phrase, or the `Connection: close` our
//! rejections add; the words of protocol errors (ours and Python's differ,
//! the close codes must not).
//!
//! `DIFFERENCES` lists where the two disagree on purpose: each is a bug
//! on Python's side, listed in the README, or a choice we document.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use wsproto::compat::events::{
    AcceptConnection, BytesMessage, CloseConnection, Ping, Pong, RejectConnection, RejectData,
    Request, TextMessage,
};
use wsproto::compat::extensions::{Extension, ExtensionRef, PerMessageDeflate};
use wsproto::compat::{
    Connection, ConnectionState, ConnectionType, Event, ProtocolError, WSConnection,
};
use wsproto::{CloseCode, FixedKey};

#[path = "../python/mod.rs"]
#[allow(dead_code)]
mod python;

const KEY: [u8; 4] = [1, 2, 3, 4];
const REQUEST_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

// ---- building scripts -------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A frame as a peer sends it: masked (with another key) toward a server.
fn frame(to_server: bool, first: u8, payload: &[u8]) -> Vec<u8> {
    // Written by hand, not with `FrameHeader`: the scripts need reserved
    // opcodes too.
    let mask_bit = if to_server { 0x80 } else { 0 };
    let mut out = vec![first];
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    let start = out.len() + if to_server { 4 } else { 0 };
    if to_server {
        out.extend_from_slice(&[9, 8, 7, 6]);
    }
    out.extend_from_slice(payload);
    if to_server {
        wsproto::mask::apply_mask(&mut out[start..], [9, 8, 7, 6], 0);
    }
    out
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

fn receive(bytes: &[u8]) -> Value {
    json!({ "receive": hex(bytes) })
}

fn eof() -> Value {
    json!({ "eof": true })
}

fn send(event: Value) -> Value {
    json!({ "send": event })
}

fn text(data: &str, fin: bool) -> Value {
    send(json!({"type": "TextMessage", "data": data, "message_finished": fin}))
}

fn binary(data: &[u8], fin: bool) -> Value {
    send(json!({"type": "BytesMessage", "data": hex(data), "message_finished": fin}))
}

fn close(code: u16, reason: Option<&str>) -> Value {
    send(json!({"type": "CloseConnection", "code": code, "reason": reason}))
}

fn request_bytes(extra: &[&str]) -> Vec<u8> {
    let mut head = format!(
        "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {REQUEST_KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn response_101(extra: &[&str]) -> Vec<u8> {
    let mut head = String::from(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\n",
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn script(name: &str, role: &str, deflate: Option<Value>, steps: Vec<Value>) -> Value {
    json!({"name": name, "role": role, "deflate": deflate, "steps": steps})
}

fn request_event(extra: Value) -> Value {
    let mut event = json!({"type": "Request", "host": "example.com", "target": "/chat?x=1"});
    if let (Some(obj), Value::Object(extra)) = (event.as_object_mut(), extra) {
        obj.extend(extra);
    }
    send(event)
}

fn accept_event(extra: Value) -> Value {
    let mut event = json!({"type": "AcceptConnection"});
    if let (Some(obj), Value::Object(extra)) = (event.as_object_mut(), extra) {
        obj.extend(extra);
    }
    send(event)
}

/// Python's `PerMessageDeflate(**params)` parameter sets, as JSON and as
/// our extension.
fn deflate_sets() -> Vec<(&'static str, Value)> {
    vec![
        ("default", json!({})),
        (
            "client_no_context_takeover",
            json!({"client_no_context_takeover": true}),
        ),
        (
            "server_no_context_takeover",
            json!({"server_no_context_takeover": true}),
        ),
        (
            "client_max_window_bits=9",
            json!({"client_max_window_bits": 9}),
        ),
        (
            "server_max_window_bits=10",
            json!({"server_max_window_bits": 10}),
        ),
        (
            "all",
            json!({"client_no_context_takeover": true, "client_max_window_bits": 12,
                   "server_no_context_takeover": true, "server_max_window_bits": 11}),
        ),
    ]
}

fn our_deflate(params: &Value) -> PerMessageDeflate {
    let flag = |name: &str| params.get(name).and_then(Value::as_bool).unwrap_or(false);
    let bits = |name: &str| params.get(name).and_then(Value::as_u64).map(|b| b as u8);
    PerMessageDeflate::new(
        flag("client_no_context_takeover"),
        bits("client_max_window_bits"),
        flag("server_no_context_takeover"),
        bits("server_max_window_bits"),
    )
    .unwrap()
}

/// Compressed messages as a negotiated peer would send them: the offer and
/// answer run through the extensions, then a facade connection writes
/// `messages`.
fn compressed_from_peer(params: &Value, peer_is_client: bool, messages: &[&str]) -> Vec<u8> {
    let mut client_ext = our_deflate(params);
    let mut server_ext = our_deflate(params);
    let offer = format!("permessage-deflate; {}", client_ext.offer().unwrap());
    let answer = server_ext.accept(&offer).unwrap();
    client_ext
        .finalize(&format!("permessage-deflate; {answer}"))
        .unwrap();
    let (kind, ext) = if peer_is_client {
        (ConnectionType::Client, client_ext)
    } else {
        (ConnectionType::Server, server_ext)
    };
    let mut peer = Connection::new(kind, vec![ExtensionRef::new(ext)], b"");
    peer.set_mask_source(Box::new(FixedKey([9, 8, 7, 6])));
    let mut out = Vec::new();
    for message in messages {
        out.extend_from_slice(&peer.send(TextMessage::new(message.to_string())).unwrap());
    }
    out
}

fn server_scripts() -> Vec<Value> {
    let t = |first, payload: &[u8]| frame(true, first, payload);
    let mut scripts = vec![
        script(
            "server: accepted, messages, ping, close from the client",
            "server",
            None,
            vec![
                receive(&request_bytes(&["X-Trace: 42"])),
                accept_event(json!({})),
                receive(&t(0x81, b"hello")),
                text("hi", true),
                receive(&t(0x89, b"are you there")),
                send(json!({"type": "Pong", "payload": hex(b"are you there")})),
                receive(&t(0x88, &close_payload(1000, "bye"))),
                close(1000, Some("bye")),
                receive(b"late"),
            ],
        ),
        script(
            "server: subprotocol, extra header, fragmented text and binary both ways",
            "server",
            None,
            vec![
                receive(&request_bytes(&["Sec-WebSocket-Protocol: chat, superchat"])),
                accept_event(json!({"subprotocol": "superchat",
                                    "extra_headers": [["x-served-by", "test"]]})),
                // "héllo wörld" in three frames, split inside "é" and "ö".
                receive(&t(0x01, "hé".as_bytes()[..2].as_ref())),
                receive(&t(0x00, &"héllo wö".as_bytes()[2..10])),
                receive(&t(0x80, &"héllo wörld".as_bytes()[10..])),
                receive(&[t(0x02, b"\x00\x01"), t(0x00, b""), t(0x80, b"\xff")].concat()),
                text("part one, ", false),
                text("part two", true),
                binary(b"\x00\xff", false),
                binary(b"", true),
                // A frame cut in three reads.
                receive(&t(0x82, b"abcdefgh")[..4]),
                receive(&t(0x82, b"abcdefgh")[4..9]),
                receive(&t(0x82, b"abcdefgh")[9..]),
                send(json!({"type": "Ping", "payload": hex(b"p")})),
            ],
        ),
        script(
            "server: a frame right behind the request",
            "server",
            None,
            vec![
                receive(&[request_bytes(&[]), t(0x81, b"early")].concat()),
                accept_event(json!({})),
                receive(&t(0x81, b"later")),
            ],
        ),
        script(
            "server: rejected with a body",
            "server",
            None,
            vec![
                receive(&request_bytes(&[])),
                send(json!({"type": "RejectConnection", "status_code": 403,
                            "headers": [["content-length", "7"], ["content-type", "text/plain"]],
                            "has_body": true})),
                send(json!({"type": "RejectData", "data": hex(b"go "), "body_finished": false})),
                send(json!({"type": "RejectData", "data": hex(b"away"), "body_finished": true})),
                text("too late", true),
            ],
        ),
        script(
            "server: rejected without a body",
            "server",
            None,
            vec![
                receive(&request_bytes(&[])),
                send(json!({"type": "RejectConnection", "status_code": 400, "has_body": false})),
            ],
        ),
        script(
            "server: request without Upgrade, answered with the hint",
            "server",
            None,
            vec![
                receive(
                    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                ),
                send(json!({"type": "RejectConnection", "status_code": 400, "has_body": false})),
            ],
        ),
        script(
            "server: unsupported version",
            "server",
            None,
            vec![receive(
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            )],
        ),
        script(
            "server: POST",
            "server",
            None,
            vec![receive(
                b"POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )],
        ),
        script(
            "server: missing key",
            "server",
            None,
            vec![receive(
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                  Sec-WebSocket-Version: 13\r\n\r\n",
            )],
        ),
        script(
            "server: garbage",
            "server",
            None,
            vec![receive(b"broken nonsense\r\n\r\n")],
        ),
        script(
            "server: closes first, then bytes after the close",
            "server",
            None,
            vec![
                receive(&request_bytes(&[])),
                accept_event(json!({})),
                close(1001, Some("going away")),
                receive(&t(0x81, b"in flight")),
                receive(&t(0x88, &close_payload(1001, "going away"))),
                receive(b"more"),
            ],
        ),
        script(
            "server: the transport ends",
            "server",
            None,
            vec![
                receive(&request_bytes(&[])),
                accept_event(json!({})),
                receive(&t(0x81, b"last words")),
                eof(),
            ],
        ),
        script(
            "server: a close with no code, and local-only codes sent",
            "server",
            None,
            vec![
                receive(&request_bytes(&[])),
                accept_event(json!({})),
                receive(&t(0x88, b"")),
                close(1005, None),
            ],
        ),
    ];
    for (name, bad) in [
        ("unmasked frame", frame(false, 0x81, b"hi")),
        ("reserved opcode", t(0x83, b"")),
        ("invalid UTF-8", t(0x81, b"\xff\xfe")),
        ("fragmented ping", t(0x09, b"")),
        ("continuation first", t(0x80, b"x")),
        ("close code 1005", t(0x88, &close_payload(1005, ""))),
        ("one-byte close", t(0x88, b"\x03")),
        ("reserved bit", t(0xc1, b"x")),
    ] {
        scripts.push(script(
            &format!("server: protocol error, {name}"),
            "server",
            None,
            vec![
                receive(&request_bytes(&[])),
                accept_event(json!({})),
                receive(&bad),
                text("after the error", true),
                close(1002, Some("protocol error")),
                receive(&t(0x88, &close_payload(1002, ""))),
            ],
        ));
    }
    let compressed_hello = compressed_from_peer(&json!({}), true, &["hello, hello, hello"]);
    scripts.push(script(
        "server: permessage-deflate offered as browsers do",
        "server",
        Some(json!({})),
        vec![
            receive(&request_bytes(&[
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
            ])),
            accept_event(json!({})),
            receive(&compressed_hello),
            text(&"browser, browser, browser ".repeat(2), true),
        ],
    ));
    scripts.push(script(
        "server: permessage-deflate offered, not supported",
        "server",
        None,
        vec![
            receive(&request_bytes(&[
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            ])),
            accept_event(json!({})),
            receive(&compressed_hello),
        ],
    ));
    for (name, params) in deflate_sets() {
        let offer = format!(
            "Sec-WebSocket-Extensions: permessage-deflate; {}",
            our_deflate(&params).offer().unwrap()
        );
        let inbound = compressed_from_peer(
            &params,
            true,
            &["compress me please, ".repeat(4).as_str(), "again and again"],
        );
        scripts.push(script(
            &format!("server: permessage-deflate, {name}"),
            "server",
            Some(params.clone()),
            vec![
                receive(&request_bytes(&[&offer])),
                accept_event(json!({})),
                receive(&inbound),
                text(&"a reply that compresses well ".repeat(3), true),
                text("a second reply, sharing the window", true),
                text("fragmented, ", false),
                text("compressed", true),
            ],
        ));
    }
    scripts
}

fn client_scripts() -> Vec<Value> {
    let f = |first, payload: &[u8]| frame(false, first, payload);
    let mut scripts = vec![
        script(
            "client: accepted, messages, ping, close from the client",
            "client",
            None,
            vec![
                request_event(json!({"extra_headers": [["x-trace", "42"]]})),
                receive(&response_101(&["X-Served-By: test"])),
                text("hello", true),
                receive(&f(0x81, b"hi")),
                receive(&f(0x89, b"ping?")),
                send(json!({"type": "Pong", "payload": hex(b"ping?")})),
                close(1000, Some("bye")),
                receive(&f(0x88, &close_payload(1000, "bye"))),
                receive(b"late"),
            ],
        ),
        script(
            "client: frames right behind the 101, subprotocol",
            "client",
            None,
            vec![
                request_event(json!({"subprotocols": ["chat", "superchat"]})),
                receive(
                    &[
                        response_101(&["Sec-WebSocket-Protocol: chat"]),
                        f(0x81, b"early"),
                        f(0x02, b"\x01"),
                    ]
                    .concat(),
                ),
                receive(&[f(0x80, b"\x02"), f(0x8a, b"")].concat()),
                binary(b"\x00\x01\x02", false),
                binary(b"\x03", true),
                text("€", false),
                text("", true),
                receive(&f(0x81, &vec![b'x'; 300])[..100]),
                receive(&f(0x81, &vec![b'x'; 300])[100..]),
            ],
        ),
        script(
            "client: rejected with a body (Content-Length)",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nContent-Type: text/plain\r\n\r\ngo "),
                receive(b"away"),
            ],
        ),
        script(
            "client: rejected with a chunked body",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
                receive(b"0\r\n\r\n"),
            ],
        ),
        script(
            "client: rejected with a body to the end of the transport",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(b"HTTP/1.1 404 Not Found\r\n\r\nnothing here"),
                eof(),
            ],
        ),
        script(
            "client: rejected without a body",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
            ],
        ),
        script(
            "client: garbage response",
            "client",
            None,
            vec![request_event(json!({})), receive(b"broken nonsense\r\n\r\n")],
        ),
        script(
            "client: 101 without Upgrade",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"),
            ],
        ),
        script(
            "client: bad accept token",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: AAAA\r\n\r\n"),
            ],
        ),
        script(
            "client: subprotocol not offered",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(&response_101(&["Sec-WebSocket-Protocol: new"])),
            ],
        ),
        script(
            "client: extension not offered",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(&response_101(&["Sec-WebSocket-Extensions: bad"])),
            ],
        ),
        script(
            "client: the server closes first",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(&response_101(&[])),
                receive(&f(0x88, &close_payload(1001, "restart"))),
                text("refused", true),
                close(1001, Some("restart")),
                eof(),
            ],
        ),
        script(
            "client: local-only close codes",
            "client",
            None,
            vec![request_event(json!({})), receive(&response_101(&[])), close(1006, Some("x"))],
        ),
        script(
            "client: the transport ends while closing",
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(&response_101(&[])),
                close(1000, None),
                eof(),
                receive(b"x"),
            ],
        ),
    ];
    for (name, bad) in [
        ("masked frame", frame(true, 0x81, b"hi")),
        ("reserved opcode", f(0x8b, b"")),
        (
            "invalid UTF-8 across frames",
            [f(0x01, b"\xe2\x82"), f(0x80, b"\x28")].concat(),
        ),
        ("control frame over 125 bytes", {
            let mut bytes = vec![0x89, 126, 0, 126];
            bytes.extend(vec![b'x'; 126]);
            bytes
        }),
        ("close code 999", f(0x88, &close_payload(999, ""))),
        ("close reason not UTF-8", f(0x88, &[0x03, 0xe8, 0xff])),
        (
            "data frame inside a message",
            [f(0x01, b"a"), f(0x81, b"b")].concat(),
        ),
        (
            "non-minimal length",
            [&[0x81u8, 126, 0, 5][..], b"hello"].concat(),
        ),
    ] {
        scripts.push(script(
            &format!("client: protocol error, {name}"),
            "client",
            None,
            vec![
                request_event(json!({})),
                receive(&response_101(&[])),
                receive(&bad),
                text("after the error", true),
                close(1002, Some("protocol error")),
                receive(&f(0x88, &close_payload(1002, ""))),
                eof(),
            ],
        ));
    }
    for (name, params) in deflate_sets() {
        let mut server_ext = our_deflate(&params);
        let offer = format!(
            "permessage-deflate; {}",
            our_deflate(&params).offer().unwrap()
        );
        let answer = server_ext.accept(&offer).unwrap();
        let header = format!("Sec-WebSocket-Extensions: permessage-deflate; {answer}");
        let inbound = compressed_from_peer(
            &params,
            false,
            &["server says hello, hello, hello", "and more"],
        );
        scripts.push(script(
            &format!("client: permessage-deflate, {name}"),
            "client",
            Some(params.clone()),
            vec![
                request_event(json!({})),
                receive(&response_101(&[&header])),
                text(&"client text that compresses ".repeat(3), true),
                binary(&[7u8; 64], true),
                text("second", true),
                receive(&inbound),
                send(json!({"type": "Ping", "payload": ""})),
            ],
        ));
    }
    scripts
}

// ---- running a script through the facade -----------------------------------

fn headers_json(headers: &HeaderMap) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(n, v)| json!([n.as_str(), String::from_utf8_lossy(v.as_bytes())]))
            .collect(),
    )
}

fn headers_from(list: Option<&Value>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for pair in list.and_then(Value::as_array).into_iter().flatten() {
        let name = HeaderName::from_bytes(pair[0].as_str().unwrap().as_bytes()).unwrap();
        headers.append(
            name,
            HeaderValue::from_str(pair[1].as_str().unwrap()).unwrap(),
        );
    }
    headers
}

fn event_json(event: &Event) -> Value {
    match event {
        Event::Request(r) => json!({
            "type": "Request", "host": r.host, "target": r.target,
            "subprotocols": r.subprotocols,
            "extensions": r.extensions.iter().map(|e| match e {
                wsproto::compat::events::RequestExtension::Offer(o) => o.clone(),
                wsproto::compat::events::RequestExtension::Extension(e) => e.name(),
            }).collect::<Vec<_>>(),
            "extra_headers": headers_json(&r.extra_headers),
        }),
        Event::AcceptConnection(a) => json!({
            "type": "AcceptConnection", "subprotocol": a.subprotocol,
            "extensions": a.extensions.iter().map(ExtensionRef::name).collect::<Vec<_>>(),
            "extra_headers": headers_json(&a.extra_headers),
        }),
        Event::RejectConnection(r) => json!({
            "type": "RejectConnection", "status_code": r.status_code,
            "headers": headers_json(&r.headers), "has_body": r.has_body,
        }),
        Event::RejectData(d) => {
            json!({"type": "RejectData", "data": hex(&d.data), "body_finished": d.body_finished})
        }
        Event::CloseConnection(c) => {
            json!({"type": "CloseConnection", "code": c.code.0, "reason": c.reason})
        }
        Event::TextMessage(m) => json!({
            "type": "TextMessage", "data": m.data.as_str(),
            "frame_finished": m.frame_finished, "message_finished": m.message_finished,
        }),
        Event::BytesMessage(m) => json!({
            "type": "BytesMessage", "data": hex(&m.data),
            "frame_finished": m.frame_finished, "message_finished": m.message_finished,
        }),
        Event::Ping(p) => json!({"type": "Ping", "payload": hex(&p.payload)}),
        Event::Pong(p) => json!({"type": "Pong", "payload": hex(&p.payload)}),
        other => panic!("unknown event {other:?}"),
    }
}

fn make_event(spec: &Value, deflate: Option<&Value>) -> Event {
    let extensions = || deflate.map(|p| ExtensionRef::new(our_deflate(p)));
    let data_fin = || {
        spec.get("message_finished")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    };
    match spec["type"].as_str().unwrap() {
        "Request" => {
            let mut request = Request::new(
                spec["host"].as_str().unwrap(),
                spec["target"].as_str().unwrap(),
            );
            request.subprotocols = spec
                .get("subprotocols")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            request.extensions = extensions().into_iter().map(Into::into).collect();
            request.extra_headers = headers_from(spec.get("extra_headers"));
            request.into()
        }
        "AcceptConnection" => AcceptConnection {
            subprotocol: spec
                .get("subprotocol")
                .and_then(Value::as_str)
                .map(str::to_owned),
            extensions: extensions().into_iter().collect(),
            extra_headers: headers_from(spec.get("extra_headers")),
        }
        .into(),
        "RejectConnection" => RejectConnection {
            status_code: spec["status_code"].as_u64().unwrap() as u16,
            headers: headers_from(spec.get("headers")),
            has_body: spec["has_body"].as_bool().unwrap(),
        }
        .into(),
        "RejectData" => RejectData {
            data: Bytes::from(unhex(spec["data"].as_str().unwrap())),
            body_finished: spec["body_finished"].as_bool().unwrap(),
        }
        .into(),
        "TextMessage" => TextMessage {
            data: spec["data"].as_str().unwrap().to_owned().into(),
            frame_finished: true,
            message_finished: data_fin(),
        }
        .into(),
        "BytesMessage" => BytesMessage {
            data: Bytes::from(unhex(spec["data"].as_str().unwrap())),
            frame_finished: true,
            message_finished: data_fin(),
        }
        .into(),
        "Ping" => Ping::new(unhex(spec["payload"].as_str().unwrap_or(""))).into(),
        "Pong" => Pong::new(unhex(spec["payload"].as_str().unwrap_or(""))).into(),
        "CloseConnection" => CloseConnection {
            code: CloseCode(spec["code"].as_u64().unwrap() as u16),
            reason: spec
                .get("reason")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
        .into(),
        other => panic!("unknown event type {other}"),
    }
}

fn state_name(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Connecting => "CONNECTING",
        ConnectionState::Open => "OPEN",
        ConnectionState::RemoteClosing => "REMOTE_CLOSING",
        ConnectionState::LocalClosing => "LOCAL_CLOSING",
        ConnectionState::Closed => "CLOSED",
        ConnectionState::Rejecting => "REJECTING",
    }
}

fn run_ours(script: &Value) -> Value {
    let role = if script["role"] == "client" {
        ConnectionType::Client
    } else {
        ConnectionType::Server
    };
    let deflate = script.get("deflate").filter(|d| !d.is_null());
    let mut conn = WSConnection::new(role);
    conn.set_mask_source(Box::new(FixedKey(KEY)));
    let mut key: Option<String> = None;
    let mut results = Vec::new();
    for step in script["steps"].as_array().unwrap() {
        let mut out = Value::Null;
        let mut error = Value::Null;
        if let Some(spec) = step.get("send") {
            match conn.send(make_event(spec, deflate)) {
                Ok(bytes) => {
                    if spec["type"] == "Request" {
                        key = String::from_utf8_lossy(&bytes).lines().find_map(|l| {
                            l.to_ascii_lowercase()
                                .starts_with("sec-websocket-key:")
                                .then(|| l.split_once(':').unwrap().1.trim().to_owned())
                        });
                    }
                    out = json!(hex(&bytes));
                }
                Err(_) => error = json!("local"),
            }
        } else {
            let data = step.get("receive").map(|h| {
                let mut data = unhex(h.as_str().unwrap());
                if let Some(key) = &key {
                    let accept = wsproto::handshake::accept_key(key.as_bytes());
                    data = replace(&data, b"{ACCEPT}", accept.as_bytes());
                }
                data
            });
            match conn.receive_data(data.as_deref()) {
                Ok(()) => {}
                Err(ProtocolError::Local(_)) => error = json!("local"),
                Err(ProtocolError::Remote(err)) => {
                    error = match err.event_hint.as_deref() {
                        Some(Event::RejectConnection(r)) => {
                            json!(format!("remote:{}", r.status_code))
                        }
                        _ => json!("remote"),
                    }
                }
            }
        }
        let events: Vec<Value> = conn.events().map(|e| event_json(&e)).collect();
        results.push(json!({"out": out, "error": error, "events": events,
                            "state": state_name(conn.state())}));
    }
    Value::Array(results)
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

// ---- normalizing and comparing ----------------------------------------------

/// Close codes whose reasons are an implementation's own words.
fn is_error_code(code: u64) -> bool {
    matches!(code, 1002 | 1007 | 1009 | 1010)
}

/// The bytes of one step, in comparable form: HTTP heads as status (or
/// request line) and a sorted set of headers, frames as they are except the
/// reason of an error close.
fn normalize_out(out: &Value, inflater: &mut Inflater) -> Value {
    let Some(text) = out.as_str() else {
        return Value::Null;
    };
    let bytes = unhex(text);
    if bytes.starts_with(b"HTTP/") || bytes.starts_with(b"GET ") {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(bytes.len(), |p| p + 4);
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let first = lines.next().unwrap_or("");
        let start: Vec<&str> = first.splitn(3, ' ').collect();
        let start = if first.starts_with("HTTP/") {
            json!(start.get(1))
        } else {
            json!([start.first(), start.get(1)])
        };
        let mut headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap_or((l, ""));
                let n = n.trim().to_ascii_lowercase();
                let v = if n == "sec-websocket-key" {
                    "*".to_owned()
                } else {
                    v.trim().to_owned()
                };
                (n, v)
            })
            // Our rejections also say the transport closes.
            .filter(|(n, v)| !(n == "connection" && v == "close"))
            .collect();
        headers.sort();
        return json!({"start": start, "headers": headers, "rest": hex(&bytes[end..])});
    }
    // Frames: blank the reason of an error close, inflate compressed ones.
    let mut rest = &bytes[..];
    let mut frames = Vec::new();
    while let Some((first, payload, len)) = parse_frame(rest) {
        rest = &rest[len..];
        let opcode = first & 0x0f;
        if opcode == 0x08 && payload.len() >= 2 {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            if is_error_code(u64::from(code)) {
                frames.push(json!({"close": code}));
                continue;
            }
        }
        let compressed = match opcode {
            0x01 | 0x02 => first & 0x40 != 0,
            0x00 => inflater.in_message,
            _ => false,
        };
        if opcode < 0x08 {
            inflater.in_message = compressed && first & 0x80 == 0;
        }
        if compressed {
            frames.push(json!({"first": first, "inflated": hex(&inflater.inflate(&payload, first & 0x80 != 0))}));
        } else {
            frames.push(json!({"first": first, "payload": hex(&payload)}));
        }
    }
    json!({"frames": frames, "rest": hex(rest)})
}

/// The inflater of one direction of one script, so that compressed frames
/// compare by what they say: zlib and zlib-rs find different matches.
#[derive(Default)]
struct Inflater {
    state: Option<Box<miniz_oxide::inflate::stream::InflateState>>,
    in_message: bool,
}

impl Inflater {
    fn inflate(&mut self, payload: &[u8], fin: bool) -> Vec<u8> {
        use miniz_oxide::inflate::stream::{InflateState, inflate};
        let state = self
            .state
            .get_or_insert_with(|| InflateState::new_boxed(miniz_oxide::DataFormat::Raw));
        let mut input = payload.to_vec();
        if fin {
            input.extend_from_slice(b"\x00\x00\xff\xff");
        }
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut at = 0;
        loop {
            let result = inflate(state, &input[at..], &mut buf, miniz_oxide::MZFlush::Sync);
            at += result.bytes_consumed;
            out.extend_from_slice(&buf[..result.bytes_written]);
            // `Buf` only says there was nothing to do.
            let stuck = result.status == Err(miniz_oxide::MZError::Buf);
            assert!(
                stuck || result.status.is_ok(),
                "a compressed frame does not inflate: {result:?}"
            );
            if stuck || (at == input.len() && result.bytes_written < buf.len()) {
                return out;
            }
        }
    }
}

/// One frame at the start of `bytes`: its first byte, its unmasked
/// payload, and its length on the wire.
fn parse_frame(bytes: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let (&first, &second) = (bytes.first()?, bytes.get(1)?);
    let masked = second & 0x80 != 0;
    let (len, mut at) = match second & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        len => (usize::from(len), 2),
    };
    let key: Option<[u8; 4]> = if masked {
        let key = bytes.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    let mut payload = bytes.get(at..at + len)?.to_vec();
    if let Some(key) = key {
        wsproto::mask::apply_mask(&mut payload, key, 0);
    }
    Some((first, payload, at + len))
}

fn normalize_event(event: &Value) -> Value {
    let mut event = event.clone();
    let obj = event.as_object_mut().unwrap();
    for key in ["extra_headers", "headers"] {
        if let Some(Value::Array(headers)) = obj.get_mut(key) {
            headers.sort_by_key(|h| h.to_string());
        }
    }
    if obj["type"] == "CloseConnection" && obj["code"].as_u64().is_some_and(is_error_code) {
        obj.insert("reason".into(), json!("<error>"));
    }
    event
}

fn normalize_step(step: &Value, inflater: &mut Inflater) -> Value {
    json!({
        "out": normalize_out(&step["out"], inflater),
        "error": step["error"],
        "events": step["events"].as_array().unwrap().iter().map(normalize_event).collect::<Vec<_>>(),
        "state": step["state"],
    })
}

/// Where we differ from Python wsproto on purpose: (script name, step,
/// why). Each is a Python bug (listed in the README) or a documented choice.
const DIFFERENCES: &[(&str, usize, &str)] = &[
    (
        "server: a close with no code, and local-only codes sent",
        3,
        "PYTHON BUG: close(1005) given as an int sends code 1000 (Python \
         tests `code is CloseReason.NO_STATUS_RCVD` by identity, so only the \
         enum member means \"no code\"); we send a close without a code",
    ),
    (
        "server: a frame right behind the request",
        1,
        "PYTHON BUG: H11Handshake._accept makes the Connection without the \
         bytes h11 holds after the request, so the early frame is lost; we \
         report it when the connection opens",
    ),
    (
        "server: protocol error, invalid UTF-8",
        4,
        "CHOICE: after a protocol error our close frame, with the error's \
         code (1007), is already queued; the application's close (here 1002) \
         sends that one. Python sends whatever the application asks",
    ),
    (
        "client: protocol error, invalid UTF-8 across frames",
        4,
        "CHOICE: as above, 1007",
    ),
    (
        "client: protocol error, close reason not UTF-8",
        4,
        "CHOICE: as above, 1007",
    ),
];

/// In every protocol-error script, the step that sends a message after
/// the error. CHOICE: Python's state is still OPEN, so it sends it; RFC
/// 6455 §7.1.7 says an endpoint that fails the connection "MUST NOT
/// continue to attempt to process data (including a responding Close
/// frame)" beyond the close, so ours refuses (LocalProtocolError).
const SEND_AFTER_ERROR_STEP: usize = 3;

/// Fragmented compressed sends: we flush each fragment so that it can be
/// inflated on arrival; Python keeps the first fragment's bytes in zlib
/// (an empty first frame). The message is the same; the frames differ.
const FRAGMENTED_DEFLATE_STEPS: [usize; 2] = [5, 6];

fn run_python(python: &Path, scripts: &[Value]) -> Vec<Value> {
    let dir = python.parent().unwrap().parent().unwrap();
    let input = dir.join("wsproto_diff_scripts.json");
    std::fs::write(&input, serde_json::to_vec(scripts).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/wsproto_diff.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start Python");
    // The script is quick; a stuck one is killed rather than waited for.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wsproto_diff.py did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "wsproto_diff.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from wsproto_diff.py")
}

#[test]
fn the_facade_agrees_with_python_wsproto() {
    let Some(python) = python::python() else {
        return;
    };
    let scripts: Vec<Value> = server_scripts()
        .into_iter()
        .chain(client_scripts())
        .collect();
    let theirs = run_python(python, &scripts);
    assert_eq!(theirs.len(), scripts.len());
    let mut differences = Vec::new();
    let mut allowed = 0;
    for (script, theirs) in scripts.iter().zip(&theirs) {
        let name = script["name"].as_str().unwrap();
        let ours = run_ours(script);
        let (mut ours_inflater, mut theirs_inflater) = (Inflater::default(), Inflater::default());
        for (i, (a, b)) in ours
            .as_array()
            .unwrap()
            .iter()
            .zip(theirs.as_array().unwrap())
            .enumerate()
        {
            let (a, b) = (
                normalize_step(a, &mut ours_inflater),
                normalize_step(b, &mut theirs_inflater),
            );
            if a == b {
                continue;
            }
            if name.contains(": protocol error, ")
                && i == SEND_AFTER_ERROR_STEP
                && a["error"] == "local"
                && !b["out"].is_null()
            {
                continue;
            }
            if name.starts_with("server: permessage-deflate")
                && FRAGMENTED_DEFLATE_STEPS.contains(&i)
            {
                continue;
            }
            if DIFFERENCES.iter().any(|(n, s, _)| *n == name && *s == i) {
                allowed += 1;
                continue;
            }
            differences.push(format!(
                "{name}, step {i} ({}):\n  ours:   {a}\n  python: {b}",
                script["steps"][i]
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} difference(s) with Python wsproto:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert_eq!(allowed, DIFFERENCES.len(), "a listed difference went away");
}
