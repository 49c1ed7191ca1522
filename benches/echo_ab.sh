#!/usr/bin/env bash
# Interleaved A/B echo load of two echo_server builds (say, before and after a
# change): both run at once, and load_gen alternates between them within each
# round, so that background load hits them alike. Prints a markdown table of
# msg/s, median (min–max) of REPS rounds. Loopback only.
#
#   A=path/to/echo_server_before B=path/to/echo_server_after bash benches/echo_ab.sh
#   SECS=2 REPS=3 SIZES="64 1024 65536" CONNS="1 16" A=… B=… bash benches/echo_ab.sh
set -uo pipefail
cd "$(dirname "$0")/.."
: "${A:?A=<echo_server binary before>}" "${B:?B=<echo_server binary after>}"
SECS=${SECS:-2}; REPS=${REPS:-2}
SIZES=${SIZES:-"64 1024 65536"}; CONNS=${CONNS:-"1 16"}
LG=${CARGO_TARGET_DIR:-target}/release/examples/load_gen
[ -x "$LG" ] || cargo build --release --quiet -p wsproto-benches --example load_gen
$A 127.0.0.1:9481 2>/dev/null & PA=$!; $B 127.0.0.1:9482 2>/dev/null & PB=$!
trap 'kill $PA $PB' EXIT; sleep 0.5
depth() { case $1 in 64|1024) echo 64;; 65536) echo 8;; *) echo 4;; esac; }
echo "| size | conns | before (hand-written loop) | after (adapter) | after/before |"
echo "|---|---|---|---|---|"
for size in $SIZES; do for conns in $CONNS; do
  ra=(); rb=()
  for _ in $(seq $REPS); do
    for p in 9481 9482; do
      r=$($LG --addr 127.0.0.1:$p --conns $conns --size $size --depth $(depth $size) --secs $SECS --warmup 0.5 2>/dev/null | sed -n 's/^msgs_per_sec=\([0-9.]*\).*/\1/p')
      if [ $p = 9481 ]; then ra+=(${r:-0}); else rb+=(${r:-0}); fi
    done
  done
  python3 -c '
import statistics,sys
size,conns=sys.argv[1],sys.argv[2]; a=[float(x) for x in sys.argv[3].split()]; b=[float(x) for x in sys.argv[4].split()]
ma,mb=statistics.median(a),statistics.median(b)
f=lambda r,m:f"{m:,.0f} ({min(r):,.0f}–{max(r):,.0f})"
lab={"64":"64 B","1024":"1 KiB","65536":"64 KiB"}.get(size,size)
print(f"| {lab} | {conns} | {f(a,ma)} | {f(b,mb)} | {mb/ma:.2f} |")' $size $conns "${ra[*]}" "${rb[*]}"
done; done
