//! Replays, through the fuzz harnesses themselves, every input committed
//! under `fuzz/corpus/TARGET` (the minimised corpus) and
//! `fuzz/regressions/TARGET` (each crash a fuzzer found, named after the
//! bug). A crash found once stays a `cargo test` failure until it is fixed,
//! without needing cargo-fuzz or a nightly toolchain.

// The harness is shared with the libFuzzer binaries; this file does not
// call every item of it.
#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Runs `target` on every file of the target's corpus and regression
/// directories; fails naming every input that panicked.
fn replay(name: &str, target: impl Fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failed = Vec::new();
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).expect("readable input");
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failed.push(path.display().to_string());
            }
        }
    }
    assert!(count > 0, "no inputs for {name}");
    assert!(
        failed.is_empty(),
        "inputs that fail:\n{}",
        failed.join("\n")
    );
}

#[test]
fn frame_decoder_server() {
    replay("frame_decoder_server", harness::frame_decoder_server);
}

#[test]
fn frame_decoder_client() {
    replay("frame_decoder_client", harness::frame_decoder_client);
}

#[test]
fn handshake_server() {
    replay("handshake_server", harness::handshake_server);
}

#[test]
fn handshake_client_response() {
    replay(
        "handshake_client_response",
        harness::handshake_client_response,
    );
}

#[test]
fn extension_offers() {
    replay("extension_offers", harness::extension_offers);
}

#[test]
fn pair_ops() {
    replay("pair_ops", |data| {
        if let Some(input) = harness::pair_input(data) {
            harness::pair_ops(input);
        }
    });
}

#[test]
fn inflate() {
    replay("inflate", harness::inflate);
}

#[test]
fn frame_decoder_server_deflate() {
    replay(
        "frame_decoder_server_deflate",
        harness::frame_decoder_server_deflate,
    );
}

#[test]
fn pair_ops_deflate() {
    replay("pair_ops_deflate", |data| {
        if let Some(input) = harness::pair_input(data) {
            harness::pair_ops_deflate(input);
        }
    });
}

#[test]
fn extended_connect() {
    replay("extended_connect", harness::extended_connect);
}

/// The extension-decoder harness (the future inflate target) holds for the
/// toy extension, on the frame decoder's inputs read as its input format.
#[test]
fn extension_decode_with_the_toy_extension() {
    replay("frame_decoder_server", |data| {
        harness::extension_decode(harness::RunLength::boxed(), data);
    });
    // A budget of 3 and a run of 255: at most 4 bytes come out.
    let mut ext = harness::RunLength::default();
    let mut out = bytes::BytesMut::new();
    wsproto::extensions::Extension::decode(&mut ext, &[255, b'a'], true, 3, usize::MAX, &mut out)
        .expect("valid");
    assert_eq!(&out[..], b"aaaa");
}

/// The harnesses' own checks see what they are meant to see.
#[test]
fn the_wire_tap_rejects_what_a_sender_must_not_write() {
    let ok = [0x81, 0x02, b'h', b'i', 0x88, 0x02, 0x03, 0xE8];
    let frames = harness::check_sent(&ok, false, false);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].close_code(), Some(1000));
    for bad in [
        &[0x88, 0x02, 0x03, 0xED][..],   // close code 1005 on the wire
        &[0x88, 0x00, 0x81, 0x00],       // a frame after the close
        &[0x82, 0x7E, 0x00, 0x01, 0x00], // non-minimal length
        &[0x80, 0x00],                   // continuation out of a message
        &[0x81, 0x80, 0, 0, 0, 0],       // a server masking
    ] {
        assert!(
            catch_unwind(|| harness::check_sent(bad, false, false)).is_err(),
            "{bad:?}"
        );
    }
    assert_eq!(harness::chunk(b"abc", 0), vec![&b"abc"[..]]);
    assert_eq!(harness::chunk(b"abc", 1).len(), 3);
    assert_eq!(harness::chunk(&[0; 100], 5).concat(), vec![0; 100]);
}

/// `pair_ops` on hand-written conversations, so the harness's model is
/// known to follow real traffic, not only what the corpus happens to hold.
#[test]
fn pair_ops_follows_a_conversation() {
    use harness::{Op, PairInput};
    let conversation = |extension: bool, streaming: bool, poison: bool| PairInput {
        client_streaming: streaming,
        server_streaming: !streaming,
        extension,
        outgoing_limit: 0,
        mask_seed: 7,
        ops: vec![
            Op::SendText {
                client: true,
                text: "hello".into(),
            },
            Op::SendFragment {
                client: false,
                text: true,
                data: vec![b'a', 0xC3],
                fin: false,
            },
            Op::Ping {
                client: false,
                data: b"ping".to_vec(),
            },
            Op::SendFragment {
                client: false,
                text: true,
                data: if poison { vec![0xFF] } else { vec![0xA9] },
                fin: true,
            },
            Op::SendShared {
                text: "shared ".into(),
                binary: true,
                repeat: 200,
            },
            Op::Flush {
                client: false,
                how: 2,
                max: 5,
            },
            Op::Deliver {
                to_server: false,
                max_bytes: 3,
            },
            Op::Flush {
                client: true,
                how: 1,
                max: 0,
            },
            Op::Deliver {
                to_server: true,
                max_bytes: 0,
            },
            Op::Close {
                client: true,
                code: 1005,
                reason: "bye".into(),
            },
        ],
    };
    for extension in [false, true] {
        for streaming in [false, true] {
            for poison in [false, true] {
                harness::pair_ops(conversation(extension, streaming, poison));
                harness::pair_ops_deflate(conversation(extension, streaming, poison));
            }
        }
    }
}
