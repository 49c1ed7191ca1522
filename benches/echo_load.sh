#!/usr/bin/env bash
# Loopback echo load (issues 6 and 12): our examples/echo_server.rs against
# echo servers on tokio-tungstenite, fastwebsockets, tokio-websockets,
# sockudo-ws and nexus-web (benches/examples/peer_echo.rs) and a plain TCP echo (the floor), each
# driven by benches/examples/load_gen.rs at several message sizes and
# connection counts.
#
#   bash benches/echo_load.sh            # defaults below
#   SECS=5 REPS=5 SIZES="64 1024" CONNS="1 16" TEXT=1 bash benches/echo_load.sh
#
# Prints a markdown table of echoed msg/s: the median of REPS runs, the
# servers taking turns within each round so that background load hits them
# alike (our min–max in brackets), our ratio to the best peer and to the
# raw TCP floor. Every server is started here on its own 127.0.0.1 port and
# killed on exit. Only loopback traffic; every run is bounded by
# SECS + WARMUP seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-2}
WARMUP=${WARMUP:-0.5}
REPS=${REPS:-3}
SIZES=${SIZES:-"64 1024 65536 1048576"}
CONNS=${CONNS:-"1 4 16"}
TEXT=${TEXT:-0}
BASE_PORT=${BASE_PORT:-9101}

cargo build --release --quiet -p wsproto -p wsproto-benches --features wsproto/tokio \
    --example echo_server --example peer_echo --example load_gen
BIN=${CARGO_TARGET_DIR:-target}/release/examples

SERVERS=(wsproto tungstenite fastwebsockets tokio-websockets sockudo-ws nexus-web raw)
declare -A PORT
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

i=0
for server in "${SERVERS[@]}"; do
    port=$((BASE_PORT + i))
    i=$((i + 1))
    PORT[$server]=$port
    if [[ $server == wsproto ]]; then
        "$BIN/echo_server" "127.0.0.1:$port" 2>/dev/null &
    else
        "$BIN/peer_echo" "$server" "127.0.0.1:$port" 2>/dev/null &
    fi
    PIDS+=("$!")
done
for server in "${SERVERS[@]}"; do
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$server]}") 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
done

# Messages in flight per connection: enough to keep the pipe full without
# holding more than a few MiB per connection.
depth_for() {
    case $1 in
        64 | 1024) echo 64 ;;
        65536) echo 8 ;;
        *) echo 4 ;;
    esac
}

text_flag=()
[[ $TEXT == 1 ]] && text_flag=(--text)

summarize() {
    python3 -c '
import statistics, sys
size, conns = int(sys.argv[1]), sys.argv[2]
runs = [[float(x) for x in arg.split()] for arg in sys.argv[3:10]]
ours, t, f, k, s, n, raw = (statistics.median(r) for r in runs)
best = max(t, f, k, s, n)
label = f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB" if size >= 1 << 10 else f"{size} B"
cell = lambda x: f"{x:,.0f}" if x else "failed"
spread = lambda r: f" ({min(r):,.0f}–{max(r):,.0f})" if len(r) > 1 else ""
ratio = lambda a, b: f"{a / b:.2f}" if a and b else "–"
print(f"| {label} | {conns} | {cell(ours)}{spread(runs[0])} | {cell(t)} | {cell(f)} | {cell(k)} "
      f"| {cell(s)} | {cell(n)} | {cell(raw)} | {ratio(ours, t)} | {ratio(ours, f)} | {ratio(ours, k)} "
      f"| {ratio(ours, s)} | {ratio(ours, n)} | **{ratio(ours, best)}** | {ratio(ours, raw)} |")
' "$@"
}

echo "| size | conns | wsproto (min–max) | tungstenite | fastwebsockets | tokio-websockets | sockudo-ws | nexus-web | raw TCP | ×tungstenite | ×fastwebsockets | ×tokio-websockets | ×sockudo-ws | ×nexus-web | × best peer | × raw |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for size in $SIZES; do
    for conns in $CONNS; do
        declare -A RATE=()
        for _ in $(seq "$REPS"); do
            for server in "${SERVERS[@]}"; do
                raw_flag=()
                [[ $server == raw ]] && raw_flag=(--raw)
                line=$("$BIN/load_gen" --addr "127.0.0.1:${PORT[$server]}" --conns "$conns" \
                    --size "$size" --depth "$(depth_for "$size")" --secs "$SECS" --warmup "$WARMUP" \
                    "${text_flag[@]}" "${raw_flag[@]}" 2>/dev/null || true)
                rate=$(sed -n 's/^msgs_per_sec=\([0-9.]*\).*/\1/p' <<<"$line")
                RATE[$server]="${RATE[$server]:-} ${rate:-0}"
            done
        done
        summarize "$size" "$conns" "${RATE[wsproto]}" "${RATE[tungstenite]}" \
            "${RATE[fastwebsockets]}" "${RATE[tokio-websockets]}" "${RATE[sockudo-ws]}" \
            "${RATE[nexus-web]}" "${RATE[raw]}"
        unset RATE
    done
done
