#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 30), starting from the
# committed, minimised corpus in fuzz/corpus/TARGET; exits non-zero if any
# target crashes. Installs cargo-fuzz if it is missing.
#
#   bash fuzz/run.sh [SECONDS]   fuzz each target
#   bash fuzz/run.sh cmin        minimise the committed corpora in place
#
# New inputs go to a scratch directory, so a run leaves fuzz/corpus as it
# was; grow the committed corpus on purpose, with a long run followed by
# `cmin`. A crash input lands in fuzz/artifacts/TARGET/: copy it to
# fuzz/regressions/TARGET/<what-broke>, where tests/fuzz_regressions.rs
# replays it under `cargo test`, and fix the bug.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# cargo-fuzz passes nightly-only flags (-Z sanitizer=address); the stable
# toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

mapfile -t targets < <(cargo fuzz list)

if [[ "${1:-}" == "cmin" ]]; then
    for target in "${targets[@]}"; do
        # Edge coverage only (no hit counters) keeps the corpus small.
        cargo fuzz cmin "$target" "corpus/$target" -- -use_counters=0
    done
    exit 0
fi

seconds="${1:-30}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

crashed=()
for target in "${targets[@]}"; do
    printf '\n==== fuzz %s for %ss ====\n' "$target" "$seconds"
    mkdir -p "$scratch/$target"
    # libFuzzer writes new inputs to the first directory and reads both.
    if ! cargo fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048; then
        crashed+=("$target")
    fi
done

if ((${#crashed[@]})); then
    printf '\ncrashed: %s (inputs in fuzz/artifacts/)\n' "${crashed[*]}" >&2
    exit 1
fi
printf '\nall %d targets ran %ss without a crash\n' "${#targets[@]}" "$seconds"
