// Headless Chromium against wsproto's echo_server: the page checks that
// permessage-deflate was negotiated, round-trips text and binary messages
// from 0 B to several MiB, and closes with a code of its choosing.
//
//   node browser_test.mjs ws://127.0.0.1:9001
import http from 'node:http';
import { chromium } from 'playwright-core';

const wsUrl = process.argv[2] ?? 'ws://127.0.0.1:9001';
const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 4 << 20];

const page = `<!doctype html><meta charset="utf-8"><title>wsproto browser test</title>
<script>
function text(n) {
  // Mixed ASCII and multi-byte text, exactly n UTF-16 units long.
  const unit = 'wsproto κόσμε 😀 ';
  let s = '';
  while (s.length < n) s += unit;
  return s.slice(0, n).replace(/[\\ud800-\\udbff]$/, 'x');
}
function bytes(n) {
  const b = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}
function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
window.run = (url, sizes) => new Promise((resolve) => {
  const log = [];
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const expected = [];
  for (const n of sizes) { expected.push(text(n)); expected.push(bytes(n)); }
  let next = 0;
  const fail = (why) => { log.push('FAIL ' + why); resolve({ ok: false, log }); };
  ws.onopen = () => {
    log.push('open, extensions=' + JSON.stringify(ws.extensions));
    if (!ws.extensions.includes('permessage-deflate')) return fail('permessage-deflate not negotiated');
    for (const m of expected) ws.send(m);
  };
  ws.onmessage = (ev) => {
    const want = expected[next];
    const ok = typeof want === 'string'
      ? ev.data === want
      : ev.data instanceof ArrayBuffer && equal(new Uint8Array(ev.data), want);
    if (!ok) return fail('message ' + next + ' differs');
    log.push('echo ' + next + ' ok (' + (typeof want === 'string' ? 'text ' : 'binary ') + want.length + ')');
    next += 1;
    if (next === expected.length) ws.close(4321, 'browser done');
  };
  ws.onerror = () => log.push('error event');
  ws.onclose = (ev) => {
    log.push('close code=' + ev.code + ' reason=' + JSON.stringify(ev.reason) + ' clean=' + ev.wasClean);
    const ok = next === expected.length && ev.code === 4321 && ev.reason === 'browser done' && ev.wasClean;
    resolve({ ok, log });
  };
});
</script>`;

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});
let ok = false;
try {
  const tab = await browser.newPage();
  await tab.goto(pageUrl);
  const result = await Promise.race([
    tab.evaluate(([url, sizes]) => window.run(url, sizes), [wsUrl, SIZES]),
    new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 60 s')), 60000)),
  ]);
  for (const line of result.log) console.log(line);
  ok = result.ok;
} finally {
  await browser.close();
  server.close();
}
console.log(ok ? 'browser test: PASS' : 'browser test: FAIL');
process.exit(ok ? 0 : 1);
