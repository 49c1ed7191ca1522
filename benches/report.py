#!/usr/bin/env python3
"""Markdown tables from criterion's results for benches/peers.rs (issues 6, 12).

Reads TARGET_DIR/criterion/<workload>/<implementation>/<size>/new/{estimates,benchmark}.json
and prints, per workload, msg/s and GB/s of each implementation at each size
and our ratio to each peer (and to the best one; for text decode also to the
best peer that checks UTF-8 at that size, see NOT_VALIDATING). A floor (bare zlib-rs in
the deflate round trip) gets its ratio too but is not a peer, so it never
counts as the best peer. An implementation missing at a size shows "–". Times are criterion's
median estimate, which shrugs off the odd slow sample on a busy machine.

    python3 benches/report.py [TARGET_DIR] [--extra LABEL=TARGET_DIR ...]

TARGET_DIR defaults to $CARGO_TARGET_DIR, else target (the workspace's,
shared by the wsproto-benches crate).

--extra adds another run's wsproto results as an implementation named LABEL
(e.g. a build with an experimental change), with its own ratio to the best
peer of the main run.
"""

import json
import os
import sys

OURS = "wsproto"
# Our borrowed-event decode (`poll_event_ref`): shown with its own ratio
# to the best peer, never counted as a peer.
OURS_BORROWED = "wsproto-ref"
ORDER = [
    OURS,
    OURS_BORROWED,
    "tungstenite",
    "fastwebsockets",
    "tokio-websockets",
    "nexus-web",
    "sockudo-ws",
    "zlib-rs",
    "flate2-miniz",
    "memcpy",
]
# Reference points, not peers: excluded from "best peer".
FLOORS = {"zlib-rs", "flate2-miniz", "memcpy"}
# Peers that hand out text without checking its UTF-8, per text workload and
# payload size, as benches/tests/utf8_audit.rs observes them (its EXPECTED
# table: `cargo test -p wsproto-benches --test utf8_audit -- --nocapture`).
# They are left out of "× best validating peer" where the check they skip is
# the work being measured. nexus-web 0.8.0 skips it on a single-frame text
# message whose payload spans two reads: every message from 64 KiB up, so it
# is left out there. Below that it is one message per 64 KiB read (it still
# checks the other 99 %), so it stays in the field at 16 B–1 KiB, though it
# accepts invalid input there too. Every other peer rejects invalid UTF-8 at
# every size, fragmented included.
NOT_VALIDATING = {
    "decode_text": {
        64 << 10: {"nexus-web"},
        1 << 20: {"nexus-web"},
        16 << 20: {"nexus-web"},
    },
    "fragmented_text": {},
}


def human_size(n):
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def human_rate(x):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.2f} {unit}"
    return f"{x:.0f}"


def load(root):
    """{workload: {size: {implementation: (msg_per_s, bytes_per_s)}}}"""
    results = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or not {"estimates.json", "benchmark.json"} <= set(files):
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        seconds = est["median"]["point_estimate"] / 1e9
        throughput = bench.get("throughput") or {}
        if "ElementsAndBytes" in throughput:
            elements = throughput["ElementsAndBytes"]["elements"]
            nbytes = throughput["ElementsAndBytes"]["bytes"]
        elif "Elements" in throughput:
            elements, nbytes = throughput["Elements"], None
        elif "Bytes" in throughput:
            elements, nbytes = None, throughput["Bytes"]
        else:
            continue
        group = bench["group_id"]
        impl = bench["function_id"]
        size = int(bench["value_str"])
        rate = (
            elements / seconds if elements is not None else None,
            nbytes / seconds if nbytes is not None else None,
        )
        results.setdefault(group, {}).setdefault(size, {})[impl] = rate
    return results


def table(name, rows, extras=()):
    impls = sorted(
        {i for per_size in rows.values() for i in per_size},
        key=lambda i: (ORDER.index(i) if i in ORDER else len(ORDER), i),
    )
    others = [i for i in impls if i != OURS and i not in extras]
    out = [f"### {name}", ""]
    header = ["size"] + [f"{i} msg/s" for i in impls] + [f"{i} GB/s" for i in impls]
    if OURS in impls and others:
        header += [f"×{p}" for p in others] + ["× best peer"]
        if name in NOT_VALIDATING:
            header += ["× best validating peer"]
        header += [f"{e} × best peer" for e in extras if e in impls]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for size in sorted(rows):
        per = rows[size]
        cells = [human_size(size)]
        cells += [human_rate(per[i][0]) if i in per and per[i][0] else "–" for i in impls]
        cells += [f"{per[i][1] / 1e9:.2f}" if i in per and per[i][1] else "–" for i in impls]
        if OURS in impls and others:
            ours = per.get(OURS, (None,))[0]
            best = None
            best_validating = None
            unchecked = NOT_VALIDATING.get(name, {}).get(size, set())
            for p in others:
                theirs = per.get(p, (None,))[0]
                if ours and theirs:
                    cells.append(f"{ours / theirs:.2f}")
                    if p not in FLOORS:
                        best = theirs if best is None else max(best, theirs)
                        if p not in unchecked:
                            best_validating = (
                                theirs if best_validating is None else max(best_validating, theirs)
                            )
                else:
                    cells.append("–")
            cells.append(f"**{ours / best:.2f}**" if ours and best else "–")
            if name in NOT_VALIDATING:
                cells.append(f"{ours / best_validating:.2f}" if ours and best_validating else "–")
            for e in extras:
                if e in impls:
                    theirs = per.get(e, (None,))[0]
                    cells.append(f"{theirs / best:.2f}" if theirs and best else "–")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    extras = {}
    while "--extra" in args:
        at = args.index("--extra")
        label, _, path = args[at + 1].partition("=")
        extras[label] = path
        del args[at : at + 2]
    target = args[0] if args else os.environ.get("CARGO_TARGET_DIR", "target")
    root = os.path.join(target, "criterion")
    if not os.path.isdir(root):
        sys.exit(f"no {root}: run `cargo bench -p wsproto-benches --bench peers` first")
    results = load(root)
    if not results:
        sys.exit(f"no results under {root}")
    for label, path in extras.items():
        for group, per_size in load(os.path.join(path, "criterion")).items():
            for size, per in per_size.items():
                if OURS in per and group in results:
                    results[group].setdefault(size, {})[label] = per[OURS]
    preferred = [
        "decode_text",
        "decode_binary",
        "fragmented_text",
        "fragmented_binary",
        "encode_server",
        "encode_client",
        "deflate_round_trip",
    ]
    names = [n for n in preferred if n in results]
    names += sorted(n for n in results if n not in preferred)
    extra = tuple(extras) + (OURS_BORROWED,)
    print("\n".join(table(n, results[n], extra) for n in names))


if __name__ == "__main__":
    main()
