//! Which implementations in the decode benches reject invalid UTF-8 in a
//! text message (issue 12): a decode that skips the check does less work
//! than ours, so its row in `decode_text` / `fragmented_text` is not a
//! like-for-like comparison.
//!
//! Each implementation is driven through its bench loop in `harness.rs`
//! (same stream, same 64 KiB reads, same configuration), over the bench's
//! input with one message made invalid: a single 0xFF byte, at the start or
//! at the end of its payload, in the first message, in the first message
//! whose frames cross a 64 KiB read, and in the last message. Each case runs
//! on a fresh decoder, and again after one valid pass (a criterion
//! iteration's state, rewound). The test asserts that we reject every case
//! with close code 1007, and that each peer does what [`EXPECTED`] says, so
//! a peer release that changes behaviour fails here and the table (and
//! `benches/report.py`'s copy of it) must be updated.
//!
//! ```text
//! cargo test -p wsproto-benches --test utf8_audit -- --nocapture   # prints the markdown table
//! ```

#[path = "../harness.rs"]
#[allow(dead_code)] // the encode half serves benches/peers.rs
mod harness;

use bytes::Bytes;
use harness::{
    Decode, MAX_READ, SIZES, Visit, client_frames, for_each_decoder, fragmented_client_frames,
    messages_for, text_payload,
};

const REJECTS: &str = "rejects";
const ACCEPTS: &str = "accepts invalid UTF-8";
/// The first message whose frames cross a 64 KiB read.
const ACROSS_READS: &str = "message across two reads";
/// Accepted only in the message that crosses two reads.
const ACCEPTS_ACROSS_READS: &str = "accepts invalid UTF-8 (message across two reads)";

/// The observed behaviour: workload label, then one verdict per
/// implementation in [`for_each_decoder`]'s order (wsproto, wsproto-ref,
/// tungstenite, fastwebsockets, tokio-websockets, nexus-web, sockudo-ws).
/// `benches/report.py` (`NOT_VALIDATING`) holds the same facts.
///
/// nexus-web 0.8.0 checks a text frame only when its whole payload is in
/// the buffer at once (`FrameReader`'s `ParseState::Payload` path completes
/// a frame that arrived over several reads without the check, and
/// `make_message` builds the `&str` with `from_utf8_unchecked`): from 64 KiB
/// every frame spans reads, below that only the one frame in each 64 KiB read
/// that crosses its end. Its fragmented path checks the assembled message.
const EXPECTED: [(&str, [&str; 7]); 7] = [
    ("16 B", ok_but_nexus(ACCEPTS_ACROSS_READS)),
    ("128 B", ok_but_nexus(ACCEPTS_ACROSS_READS)),
    ("1 KiB", ok_but_nexus(ACCEPTS_ACROSS_READS)),
    ("64 KiB", ok_but_nexus(ACCEPTS)),
    ("1 MiB", ok_but_nexus(ACCEPTS)),
    ("16 MiB", ok_but_nexus(ACCEPTS)),
    ("1 KiB in 16 fragments", [REJECTS; 7]),
];

/// Every implementation rejects, except nexus-web, which does `nexus`.
const fn ok_but_nexus(nexus: &'static str) -> [&'static str; 7] {
    let mut row = [REJECTS; 7];
    row[5] = nexus;
    row
}

/// One decode workload of `benches/peers.rs` with text payloads.
struct Workload {
    label: String,
    size: usize,
    /// Frames per message (1: the single-frame `decode_text`).
    fragments: usize,
    n: usize,
}

impl Workload {
    /// `count` messages of `payload`, framed as the bench frames them.
    fn frames(&self, payload: &[u8], count: usize) -> Vec<u8> {
        if self.fragments == 1 {
            client_frames(1, payload, count).to_vec()
        } else {
            fragmented_client_frames(1, payload, self.fragments, count).to_vec()
        }
    }
}

/// The bench's input with message `at` made invalid by a 0xFF at payload
/// byte `offset`.
struct Case {
    at: usize,
    offset: usize,
    input: Bytes,
    /// Which message: the first, the first whose frames cross two reads, the last.
    position: &'static str,
}

impl Case {
    fn what(&self) -> String {
        format!(
            "{} (#{}), payload byte {}",
            self.position, self.at, self.offset
        )
    }
}

fn workloads() -> Vec<Workload> {
    let mut all: Vec<Workload> = SIZES
        .iter()
        .map(|&size| Workload {
            label: label(size),
            size,
            fragments: 1,
            n: messages_for(size),
        })
        .collect();
    // `fragmented` in benches/peers.rs: 1 KiB in 16 frames of 64 B.
    all.push(Workload {
        label: "1 KiB in 16 fragments".into(),
        size: 1 << 10,
        fragments: 16,
        n: messages_for(1 << 10),
    });
    all
}

fn label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// The valid input and the invalid variants of one workload.
fn cases(workload: &Workload) -> (Bytes, Vec<Case>) {
    let valid = text_payload(workload.size);
    let frame_len = workload.frames(&valid, 1).len();
    // The first message whose frames cross a read boundary: the payload
    // arrives in two reads, the path nexus-web leaves unchecked.
    let straddling = (0..workload.n)
        .find(|i| (i * frame_len) / MAX_READ != ((i + 1) * frame_len - 1) / MAX_READ);
    let mut positions = vec![(0, "first message")];
    if let Some(i) = straddling.filter(|&i| i != 0) {
        positions.push((i, ACROSS_READS));
    }
    if workload.n > 1 {
        positions.push((workload.n - 1, "last message"));
    }
    let mut out = Vec::new();
    for (at, position) in positions {
        for offset in [0, workload.size - 1] {
            let mut invalid = valid.clone();
            invalid[offset] = 0xFF;
            let mut input = workload.frames(&valid, at);
            input.extend(workload.frames(&invalid, 1));
            input.extend(workload.frames(&valid, workload.n - at - 1));
            out.push(Case {
                at,
                offset,
                input: input.into(),
                position,
            });
        }
    }
    (workload.frames(&valid, workload.n).into(), out)
}

/// What one decode of a case did.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Refused the invalid message, with the close code where one is named.
    Rejected(Option<u16>),
    /// Handed out the invalid message's bytes as text.
    Accepted,
}

fn run<D: Decode>(decoder: &mut D, n: usize, case: &Case) -> Result<Outcome, String> {
    let mut handed_out = None;
    let result = decoder.decode(n, |i, payload| {
        if i == case.at {
            handed_out = Some((
                std::str::from_utf8(payload).is_err(),
                payload.get(case.offset).copied(),
            ));
        }
    });
    match (result, handed_out) {
        (Err(rejected), None) if rejected.at == case.at => {
            Ok(Outcome::Rejected(rejected.close_code))
        }
        (Err(rejected), _) => Err(format!(
            "stopped at message {} ({}), the invalid one is {}",
            rejected.at, rejected.why, case.at
        )),
        (Ok(()), Some((true, Some(0xFF)))) => Ok(Outcome::Accepted),
        (Ok(()), other) => Err(format!(
            "decoded all, message {} seen as {other:?}",
            case.at
        )),
    }
}

#[derive(Default)]
struct Audit {
    workloads: Vec<(Workload, Bytes, Vec<Case>)>,
    /// Per implementation: its name and one verdict per workload.
    verdicts: Vec<(&'static str, Vec<String>)>,
}

impl Visit for Audit {
    fn visit<D: Decode>(&mut self) {
        let mut verdicts = Vec::new();
        for (workload, valid, cases) in &self.workloads {
            let n = workload.n;
            // Per position: how many of its four variants (first / last
            // payload byte, fresh / after a valid pass) were accepted.
            let mut accepted: Vec<(&str, usize)> = Vec::new();
            for case in cases {
                for warm in [false, true] {
                    let mut decoder = if warm {
                        let mut decoder = D::new(valid.clone());
                        decoder
                            .decode(n, |_, _| {})
                            .unwrap_or_else(|r| panic!("{}: valid input refused: {r:?}", D::NAME));
                        decoder.set_input(case.input.clone());
                        decoder
                    } else {
                        D::new(case.input.clone())
                    };
                    let outcome = run(&mut decoder, n, case).unwrap_or_else(|e| {
                        panic!("{} {}, {}: {e}", D::NAME, workload.label, case.what())
                    });
                    if D::NAME.starts_with("wsproto") {
                        assert_eq!(
                            outcome,
                            Outcome::Rejected(Some(1007)),
                            "{} {}, {}, warm: {warm}",
                            D::NAME,
                            workload.label,
                            case.what()
                        );
                    }
                    if accepted.last().is_none_or(|(p, _)| *p != case.position) {
                        accepted.push((case.position, 0));
                    }
                    if outcome == Outcome::Accepted {
                        accepted.last_mut().expect("pushed").1 += 1;
                    }
                }
            }
            let variants = cases.len() * 2 / accepted.len();
            let partly: Vec<String> = accepted
                .iter()
                .filter(|(_, count)| *count > 0)
                .map(|&(position, count)| match count {
                    c if c == variants => position.to_string(),
                    c => format!("{position}, {c} of {variants} variants"),
                })
                .collect();
            verdicts.push(if partly.is_empty() {
                REJECTS.to_string()
            } else if accepted.iter().all(|(_, count)| *count == variants) {
                ACCEPTS.to_string()
            } else {
                format!("{ACCEPTS} ({})", partly.join("; "))
            });
        }
        self.verdicts.push((D::NAME, verdicts));
    }
}

#[test]
fn invalid_utf8_in_text_by_size_and_implementation() {
    let mut audit = Audit::default();
    for workload in workloads() {
        let (valid, cases) = cases(&workload);
        audit.workloads.push((workload, valid, cases));
    }
    for_each_decoder(&mut audit);

    let names: Vec<&str> = audit.verdicts.iter().map(|(name, _)| *name).collect();
    let mut table = format!("| size | {} |\n|---|", names.join(" | "));
    table.push_str(&"---|".repeat(names.len()));
    table.push('\n');
    for (w, (workload, _, _)) in audit.workloads.iter().enumerate() {
        let row: Vec<&str> = audit.verdicts.iter().map(|(_, v)| v[w].as_str()).collect();
        table.push_str(&format!("| {} | {} |\n", workload.label, row.join(" | ")));
    }
    println!("{table}");

    let mut mismatches = Vec::new();
    for (w, (workload, _, _)) in audit.workloads.iter().enumerate() {
        let (label, expected) = EXPECTED[w];
        assert_eq!(
            label, workload.label,
            "EXPECTED lists the workloads in order"
        );
        for (i, (name, verdicts)) in audit.verdicts.iter().enumerate() {
            if verdicts[w] != expected[i] {
                mismatches.push(format!(
                    "{name} at {label}: expected {:?}, observed {:?}",
                    expected[i], verdicts[w]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "behaviour differs from EXPECTED (update it and benches/report.py):\n{}",
        mismatches.join("\n")
    );
}
