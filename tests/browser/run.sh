#!/usr/bin/env bash
# Runs the headless-Chromium test against echo_server, then against
# axum_echo (the `axum` feature, route /ws), then over HTTP/2 (RFC 8441)
# against h2_server (TLS with ALPN h2, a certificate made at start; the test
# checks the server counted an extended CONNECT). Installs Debian's chromium
# and playwright-core (never a downloaded browser) if missing.
set -Eeuo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${BROWSER_TEST_PORT:-9011}"
AXUM_PORT="${BROWSER_TEST_AXUM_PORT:-9012}"
H2_PORT="${BROWSER_TEST_H2_PORT:-9013}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x /usr/bin/chromium ]; then
  echo "[browser] installing chromium from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
cd "$HERE"
if [ ! -d node_modules/playwright-core ]; then
  echo "[browser] installing playwright-core"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

cd "$ROOT"
# One build for all three (each example ignores the features the others need).
cargo build --release --features axum,rustls --example echo_server --example axum_echo \
  --example h2_server

SERVER=""
stop_server() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
  fi
}
trap stop_server EXIT

# run_against EXAMPLE PORT PATH [ARGS...]: starts the example on PORT and runs
# the browser test against ws://127.0.0.1:PORT/PATH, or with ARGS as given.
run_against() {
  local example=$1 port=$2 path=$3
  shift 3
  local test_args=("$@")
  [ ${#test_args[@]} -gt 0 ] || test_args=("ws://127.0.0.1:$port/$path")
  echo "[browser] against $example"
  "$TARGET/release/examples/$example" "127.0.0.1:$port" &
  SERVER=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  (cd "$HERE" && timeout 180 node browser_test.mjs "${test_args[@]}")
  stop_server
}

run_against echo_server "$PORT" ""
run_against axum_echo "$AXUM_PORT" ws
run_against h2_server "$H2_PORT" ws "wss://127.0.0.1:$H2_PORT/ws" --h2 "https://127.0.0.1:$H2_PORT/"
