#!/usr/bin/env python3
"""Memory per idle connection of each echo server, measured from outside.

For every server: start it, read its resident set size (VmRSS), open N
WebSocket connections that each complete the handshake and one 32-byte echo,
then leave them idle, read VmRSS again, and report the growth per connection
(task, socket buffers in user space, read buffer, engine: everything the
server process holds for it). Kernel socket memory is not in VmRSS.

    python3 benches/idle_memory.py [N]          # default N = 2000

It runs the release builds of `examples/echo_server` (wsproto) and
`benches/examples/peer_echo` (the peers); build them first:

    cargo build --release --features tokio --example echo_server
    cargo build --release -p wsproto-benches --example peer_echo

Only the Python standard library is used. Servers bind 127.0.0.1 and are
killed when the measurement ends.
"""

import asyncio
import base64
import os
import resource
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
EXAMPLES = os.path.join(TARGET, "release", "examples")

# name -> argv (the address is appended)
SERVERS = {
    "wsproto echo_server": [os.path.join(EXAMPLES, "echo_server")],
    "tokio-websockets": [os.path.join(EXAMPLES, "peer_echo"), "tokio-websockets"],
    "fastwebsockets": [os.path.join(EXAMPLES, "peer_echo"), "fastwebsockets"],
    "tokio-tungstenite": [os.path.join(EXAMPLES, "peer_echo"), "tungstenite"],
    "sockudo-ws": [os.path.join(EXAMPLES, "peer_echo"), "sockudo-ws"],
    "nexus-web": [os.path.join(EXAMPLES, "peer_echo"), "nexus-web"],
}

MASK = b"\x37\xfa\x21\x3d"
PAYLOAD = b"x" * 32


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def masked_text(payload):
    head = bytes([0x81, 0x80 | len(payload)]) + MASK
    return head + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


async def open_idle(port):
    """One connection: handshake, one echo; returns the open streams."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"handshake refused: {head[:40]!r}")
    writer.write(masked_text(PAYLOAD))
    await writer.drain()
    frame = await reader.readexactly(2 + len(PAYLOAD))
    if frame[2:] != PAYLOAD:
        raise RuntimeError("echo differs")
    return reader, writer


async def measure(argv, n):
    port = free_port()
    server = subprocess.Popen(
        argv + [f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"{argv} did not start")
                await asyncio.sleep(0.05)
        # Warm up: one connection, so lazily started runtime threads and
        # first-use allocations are in the baseline.
        _, warm = await open_idle(port)
        await asyncio.sleep(0.5)
        before = rss_kib(server.pid)
        conns = []
        for start in range(0, n, 200):
            batch = [open_idle(port) for _ in range(min(200, n - start))]
            conns += await asyncio.gather(*batch)
        await asyncio.sleep(1.0)
        after = rss_kib(server.pid)
        for _, writer in conns:
            writer.close()
        warm.close()
        return before, after
    finally:
        server.kill()
        server.wait()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * n + 100))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    print(f"{n} idle connections, each after its handshake and one 32-byte echo")
    print(f"{'server':<22} {'RSS before':>11} {'RSS after':>11} {'per conn':>10}")
    for name, argv in SERVERS.items():
        if not os.path.exists(argv[0]):
            print(f"{name:<22} not built: {argv[0]}")
            continue
        # The server inherits the raised descriptor limit.
        before, after = asyncio.run(measure(argv, n))
        per = (after - before) / n
        print(f"{name:<22} {before:>8} KiB {after:>8} KiB {per:>6.1f} KiB")


if __name__ == "__main__":
    main()
