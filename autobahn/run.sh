#!/usr/bin/env bash
# Run the Autobahn|Testsuite against wsproto and check the results strictly.
#
#   autobahn/run.sh [server|client|both]      (default: both; run from anywhere)
#
# server role: wstest -m fuzzingclient  -> target/release/examples/echo_server
# client role: target/release/examples/autobahn_client -> wstest -m fuzzingserver
# (target/ is $CARGO_TARGET_DIR when that is set)
#
# Reports: autobahn/reports/{server,client}/index.html (+ index.json, logs in
# autobahn/reports/*.log).  Exits non-zero if either role fails.
#
# Environment (all optional):
#   AUTOBAHN_SERVER_PORT (a free port)  port of echo_server
#   AUTOBAHN_CLIENT_PORT (a free port)  port of wstest's fuzzingserver
#   AUTOBAHN_TIMEOUT     (1800)  seconds allowed for each wstest / client run
#                                (a role takes ~11 min; a loaded machine took 888 s)
#   AUTOBAHN_CHECK_ARGS          extra check.py args, e.g. "--allow UNIMPLEMENTED"
#   WSTEST_PREFIX        (/opt/wstest) where install.sh puts wstest
#   AUTOBAHN_SKIP_BUILD=1        don't run cargo build (use the binaries below)
#   AUTOBAHN_ECHO_SERVER, AUTOBAHN_CLIENT   override the two testee programs
# shellcheck disable=SC2317  # functions run via traps and "run_${r}_role"
set -Eeuo pipefail

usage() { echo "usage: $0 [server|client|both]" >&2; }
ROLE="${1:-both}"
case "$ROLE" in
  server|client|both) ;;
  -h|--help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac
[ $# -le 1 ] || { usage; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

HOST=127.0.0.1
AGENT=wsproto
# A port the OS just handed out and released: free, unless another
# program takes it in the moment before we bind it.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SERVER_PORT="${AUTOBAHN_SERVER_PORT:-$(free_port)}"
CLIENT_PORT="${AUTOBAHN_CLIENT_PORT:-$(free_port)}"
while [ "$CLIENT_PORT" = "$SERVER_PORT" ]; do CLIENT_PORT=$(free_port); done
TIMEOUT="${AUTOBAHN_TIMEOUT:-1800}"
WSTEST="${WSTEST_PREFIX:-/opt/wstest}/bin/wstest"
EXAMPLES="${CARGO_TARGET_DIR:-target}/release/examples"
ECHO_SERVER="${AUTOBAHN_ECHO_SERVER:-$EXAMPLES/echo_server}"
CLIENT="${AUTOBAHN_CLIENT:-$EXAMPLES/autobahn_client}"
REPORTS=autobahn/reports          # relative to the repo root, as in the specs
# shellcheck disable=SC2206
CHECK_ARGS=(${AUTOBAHN_CHECK_ARGS:-})

log() { printf '[autobahn] %s\n' "$*" >&2; }
die() { printf '[autobahn] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup
BG_PIDS=()
cleanup() {
  local pid _
  for pid in "${BG_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  BG_PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_pid() {  # stop one background process and forget it
  local pid=$1 keep=() p _
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  for p in "${BG_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  BG_PIDS=("${keep[@]}")
}

# Run a command in the background and wait for it, so that an INT/TERM sent
# to this script is handled at once (bash runs traps only after a foreground
# child exits) and the EXIT trap stops the command.
run_waited() {  # run_waited LOGFILE CMD...
  local logf=$1 pid rc=0
  shift
  "$@" </dev/null >"$logf" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  wait "$pid" || rc=$?
  stop_pid "$pid"
  return "$rc"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

wait_port() {  # wait_port PORT PID NAME LOG
  local port=$1 pid=$2 name=$3 logf=$4 _
  for _ in $(seq 300); do
    port_open "$port" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited before listening on $HOST:$port; last lines of $logf:"
      tail -n 30 "$logf" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  log "$name did not accept TCP on $HOST:$port within 30 s; last lines of $logf:"
  tail -n 30 "$logf" >&2 || true
  return 1
}

require_free_port() {
  if port_open "$1"; then
    log "something already listens on $HOST:$1 (a leftover server?); stop it or set $2"
    return 1
  fi
}

# --------------------------------------------------------------- prepare
command -v python3 >/dev/null || die "python3 is needed for autobahn/check.py"
command -v timeout >/dev/null || die "timeout (coreutils) is needed"

log "installing wstest (autobahn/install.sh)"
bash autobahn/install.sh || die "autobahn/install.sh failed"
[ -x "$WSTEST" ] || die "$WSTEST not found after install.sh"

if [ "${AUTOBAHN_SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release --features tokio --example echo_server --example autobahn_client"
  cargo build --release --features tokio --example echo_server --example autobahn_client \
    || die "cargo build of the examples failed"
fi

mkdir -p "$REPORTS"

# ---------------------------------------------------------------- server
run_server_role() {
  local outdir="$REPORTS/server" spec="$REPORTS/fuzzingclient.json"
  local slog="$REPORTS/echo_server.log" wlog="$REPORTS/wstest-fuzzingclient.log"
  local rc=0 pid
  [ -x "$ECHO_SERVER" ] || { log "server: $ECHO_SERVER not found or not executable"; return 1; }
  require_free_port "$SERVER_PORT" AUTOBAHN_SERVER_PORT || return 1
  rm -rf "$outdir"
  cat > "$spec" <<EOF
{
  "outdir": "./$outdir",
  "servers": [{"agent": "$AGENT", "url": "ws://$HOST:$SERVER_PORT"}],
  "cases": ["*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
EOF
  log "server: starting $ECHO_SERVER $HOST:$SERVER_PORT (log: $slog)"
  # timeout is only a backstop in case this script is SIGKILLed.
  timeout -k 5 $((TIMEOUT + 120)) "$ECHO_SERVER" "$HOST:$SERVER_PORT" </dev/null >"$slog" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  wait_port "$SERVER_PORT" "$pid" echo_server "$slog" || { stop_pid "$pid"; return 1; }

  log "server: wstest -m fuzzingclient -s $spec (timeout ${TIMEOUT}s, log: $wlog)"
  local t0=$SECONDS
  run_waited "$wlog" timeout -k 10 "$TIMEOUT" "$WSTEST" -m fuzzingclient -s "$spec" || rc=$?
  log "server: wstest finished in $((SECONDS - t0)) s (exit $rc)"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    log "server: wstest TIMED OUT after ${TIMEOUT}s"
  elif [ "$rc" != 0 ]; then
    log "server: wstest failed; last lines of $wlog:"; tail -n 30 "$wlog" >&2 || true
  fi
  if grep -q '^Connection to .* failed' "$wlog"; then
    log "server: wstest could not connect: $(grep -m1 '^Connection to .* failed' "$wlog")"
    rc=1
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    log "server: echo_server EXITED during the run; last lines of $slog:"
    tail -n 30 "$slog" >&2 || true
    rc=1
  fi
  stop_pid "$pid"

  python3 autobahn/check.py "$outdir" "$AGENT" --role server "${CHECK_ARGS[@]}" || rc=1
  return "$rc"
}

# ---------------------------------------------------------------- client
# Ask a running fuzzingserver to write its reports (what the client's final
# /updateReports does), so that a client that died still leaves a report.
update_reports() {
  python3 - "$HOST" "$CLIENT_PORT" "$AGENT" <<'EOF'
import base64, os, socket, sys
host, port, agent = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=120)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /updateReports?agent=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (agent, host, port, key)).encode())
data = b""
while True:  # the server closes once the reports are written
    d = s.recv(65536)
    if not d:
        break
    data += d
    if b"\r\n\r\n" in data and not data.startswith(b"HTTP/1.1 101"):
        sys.exit("updateReports refused: %r" % data[:200])
    if len(data) > 4 and b"\r\n\r\n" in data and data.split(b"\r\n\r\n", 1)[1][:1] == b"\x88":
        s.sendall(b"\x88\x80\x00\x00\x00\x00")  # masked empty close
        break
EOF
}

run_client_role() {
  local outdir="$REPORTS/client" spec="$REPORTS/fuzzingserver.json"
  local wlog="$REPORTS/wstest-fuzzingserver.log" clog="$REPORTS/autobahn_client.log"
  local rc=0 crc=0 pid
  [ -x "$CLIENT" ] || { log "client: $CLIENT not found or not executable"; return 1; }
  require_free_port "$CLIENT_PORT" AUTOBAHN_CLIENT_PORT || return 1
  rm -rf "$outdir"
  cat > "$spec" <<EOF
{
  "url": "ws://$HOST:$CLIENT_PORT",
  "outdir": "./$outdir",
  "cases": ["*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
EOF
  log "client: starting wstest -m fuzzingserver -s $spec (log: $wlog)"
  # -u 0: no embedded web server (it would listen on 8080).
  timeout -k 10 $((TIMEOUT + 60)) "$WSTEST" -m fuzzingserver -s "$spec" -u 0 </dev/null >"$wlog" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  wait_port "$CLIENT_PORT" "$pid" "wstest fuzzingserver" "$wlog" || { stop_pid "$pid"; return 1; }

  log "client: $CLIENT ws://$HOST:$CLIENT_PORT $AGENT (timeout ${TIMEOUT}s, log: $clog)"
  local t0=$SECONDS
  run_waited "$clog" timeout -k 10 "$TIMEOUT" "$CLIENT" "ws://$HOST:$CLIENT_PORT" "$AGENT" || crc=$?
  log "client: finished in $((SECONDS - t0)) s (exit $crc)"
  if [ "$crc" != 0 ]; then
    rc=1
    if [ "$crc" = 124 ] || [ "$crc" = 137 ]; then log "client: TIMED OUT after ${TIMEOUT}s"; fi
    log "client: autobahn_client failed; last lines of $clog:"; tail -n 30 "$clog" >&2 || true
    if kill -0 "$pid" 2>/dev/null; then
      log "client: asking the fuzzingserver for a (partial) report"
      update_reports >&2 || log "client: /updateReports failed"
    fi
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    log "client: wstest fuzzingserver EXITED during the run; last lines of $wlog:"
    tail -n 30 "$wlog" >&2 || true
  fi
  stop_pid "$pid"

  python3 autobahn/check.py "$outdir" "$AGENT" --role client "${CHECK_ARGS[@]}" || rc=1
  return "$rc"
}

# ------------------------------------------------------------------ main
declare -A RESULT=()
status=0
for r in server client; do
  [ "$ROLE" = both ] || [ "$ROLE" = "$r" ] || continue
  if "run_${r}_role"; then RESULT[$r]=PASS; else RESULT[$r]=FAIL; status=1; fi
done

echo
for r in server client; do
  [ -n "${RESULT[$r]:-}" ] || continue
  printf 'autobahn %s role: %s   (HTML: %s/%s/index.html)\n' "$r" "${RESULT[$r]}" "$REPORTS" "$r"
done
exit "$status"
