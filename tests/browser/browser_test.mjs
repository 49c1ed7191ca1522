// Headless Chromium against wsproto's echo_server: the page checks that
// permessage-deflate was negotiated, round-trips text and binary messages
// from 0 B to several MiB, and closes with a code of its choosing.
//
//   node browser_test.mjs ws://127.0.0.1:9001
//
// Over HTTP/2 (RFC 8441), against examples/h2_server.rs: the test page is
// the server's own (same origin, so Chromium has an HTTP/2 connection to
// reuse), loaded over TLS with its self-signed certificate accepted; the
// test checks that the page came over h2 and that the server's counters
// saw an extended CONNECT and no HTTP/1.1 upgrade.
//
//   node browser_test.mjs wss://127.0.0.1:9443/ws --h2 https://127.0.0.1:9443/
import http from 'node:http';
import { chromium } from 'playwright-core';

const wsUrl = process.argv[2] ?? 'ws://127.0.0.1:9001';
const h2Index = process.argv.indexOf('--h2');
const h2Origin = h2Index > 0 ? process.argv[h2Index + 1] : null;
const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 4 << 20];

const script = `
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
`;
const page = `<!doctype html><meta charset="utf-8"><title>wsproto browser test</title>
<script>${script}</script>`;

// Without --h2, this process serves the page over plain HTTP.
let server = null;
let pageUrl = h2Origin;
if (!h2Origin) {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  pageUrl = `http://127.0.0.1:${server.address().port}/`;
}

const args = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];
if (h2Origin) args.push('--ignore-certificate-errors');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args,
});
let ok = false;
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: Boolean(h2Origin) });
  const tab = await context.newPage();
  await tab.goto(pageUrl);
  if (h2Origin) {
    const protocol = await tab.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
    console.log(`page loaded over ${protocol}`);
    if (protocol !== 'h2') throw new Error(`the page came over ${protocol}, not h2`);
    await tab.addScriptTag({ content: script });
  }
  const result = await Promise.race([
    tab.evaluate(([url, sizes]) => window.run(url, sizes), [wsUrl, SIZES]),
    new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 60 s')), 60000)),
  ]);
  for (const line of result.log) console.log(line);
  ok = result.ok;
  if (h2Origin) {
    // The server counts each WebSocket by how it was asked for.
    const stats = await tab.evaluate(async () => (await fetch('/stats')).json());
    console.log('server counters: ' + JSON.stringify(stats));
    if (!(stats.extended_connect >= 1 && stats.http1_upgrade === 0)) {
      console.log('FAIL the WebSocket did not go over HTTP/2 (extended CONNECT)');
      ok = false;
    }
  }
} finally {
  await browser.close();
  if (server) server.close();
}
console.log(ok ? 'browser test: PASS' : 'browser test: FAIL');
process.exit(ok ? 0 : 1);
