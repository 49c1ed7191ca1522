#!/usr/bin/env bash
# Runs the headless-Chromium test against echo_server. Installs Debian's
# chromium and playwright-core (never a downloaded browser) if missing.
set -Eeuo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${BROWSER_TEST_PORT:-9011}"

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
cargo build --release --features tokio --example echo_server
"${CARGO_TARGET_DIR:-target}/release/examples/echo_server" "127.0.0.1:$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
cd "$HERE"
timeout 180 node browser_test.mjs "ws://127.0.0.1:$PORT"
