#!/usr/bin/env python3
"""Memory per idle connection of each echo server, measured from outside.

For every server: start it, read its resident set size (VmRSS), open N
WebSocket connections that each complete the handshake and one 32-byte echo,
then leave them idle, read VmRSS again, and report the growth per connection
(task, socket buffers in user space, read buffer, engine: everything the
server process holds for it). Kernel socket memory is not in VmRSS.

    python3 benches/idle_memory.py [N]            # default N = 2000
    python3 benches/idle_memory.py --deflate [N]  # with permessage-deflate

With `--deflate` (issue 12) only the servers that negotiate
permessage-deflate run (wsproto's `echo_server`, `peer_echo
sockudo-ws-deflate`), once per offer in OFFERS: each window size W from 8
to 15 as `permessage-deflate; client_max_window_bits=W;
server_max_window_bits=W`, then the bare offer browsers send, then both
`*_no_context_takeover`. The client checks that the answer keeps to the
offer (RFC 7692 §7.1), sends its 32 bytes as one compressed message (RSV1,
raw DEFLATE with the sync-flush tail cut, §7.2.1) and checks the echo,
inflating it with the server's negotiated window when RSV1 is set. A
server that declines an offer is measured without the extension and its
row says so.

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
import zlib

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

# The servers that negotiate permessage-deflate, for --deflate.
DEFLATE_SERVERS = {
    "wsproto echo_server": SERVERS["wsproto echo_server"],
    "sockudo-ws": [os.path.join(EXAMPLES, "peer_echo"), "sockudo-ws-deflate"],
}

# label -> the Sec-WebSocket-Extensions offer, for --deflate.
OFFERS = {
    f"W={bits}": (
        "permessage-deflate; "
        f"client_max_window_bits={bits}; server_max_window_bits={bits}"
    )
    for bits in range(8, 16)
}
OFFERS["bare (browser)"] = "permessage-deflate; client_max_window_bits"
OFFERS["no context takeover"] = (
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
)

MASK = b"\x37\xfa\x21\x3d"
PAYLOAD = b"x" * 32
# RFC 7692 §7.2.1: the tail a sync flush ends with, cut by the sender.
TAIL = b"\x00\x00\xff\xff"


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


def masked_text(payload, rsv1=False):
    head = bytes([0xC1 if rsv1 else 0x81, 0x80 | len(payload)]) + MASK
    return head + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def window_value(value):
    """A window size as RFC 7692 §7.1.2 writes it: 8..15, no leading zero."""
    if value is None or not value.isdigit() or value != str(int(value)):
        raise RuntimeError(f"bad window bits {value!r}")
    bits = int(value)
    if not 8 <= bits <= 15:
        raise RuntimeError(f"window bits out of range: {bits}")
    return bits


def offered_params(offer):
    params = {}
    for part in offer.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        params[name] = value or None
    return params


def negotiate(offer, head):
    """Checks a 101 answer's permessage-deflate against our offer (§7.1).

    Returns None when the server declined, else the agreed parameters:
    {"client_bits", "server_bits", "client_nct", "server_nct"}.
    """
    answers = [
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\r\n")[1:]
        if line.lower().startswith(b"sec-websocket-extensions:")
    ]
    if not answers:
        return None
    if len(answers) != 1 or "," in answers[0]:
        raise RuntimeError(f"more than one extension accepted: {answers}")
    name, *parts = [part.strip() for part in answers[0].split(";")]
    if name != "permessage-deflate":
        raise RuntimeError(f"unexpected extension: {answers[0]}")
    offered = offered_params(offer)
    agreed = {"client_bits": 15, "server_bits": 15}
    agreed["client_nct"] = agreed["server_nct"] = False
    seen = set()
    for part in parts:
        key, _, value = part.partition("=")
        if key in seen:
            raise RuntimeError(f"repeated parameter: {answers[0]}")
        seen.add(key)
        if key == "server_no_context_takeover" and not value:
            agreed["server_nct"] = True
        elif key == "client_no_context_takeover" and not value:
            agreed["client_nct"] = True
        elif key == "server_max_window_bits":
            bits = window_value(value)
            # §7.1.2.1: the same or a smaller value than offered.
            limit = offered.get(key)
            if limit is not None and bits > int(limit):
                raise RuntimeError(f"server window {bits} above offered {limit}")
            agreed["server_bits"] = bits
        elif key == "client_max_window_bits":
            bits = window_value(value)
            # §7.1.2.2: only if offered; not larger than the offered value.
            if key not in offered:
                raise RuntimeError("client_max_window_bits answered, not offered")
            limit = offered[key]
            if limit is not None and bits > int(limit):
                raise RuntimeError(f"client window {bits} above offered {limit}")
            agreed["client_bits"] = bits
        else:
            raise RuntimeError(f"unexpected parameter: {answers[0]}")
    # Without the parameter in the answer, the client may use any window
    # up to what it offered (§7.1.2.2).
    if "client_max_window_bits" not in seen:
        limit = offered.get("client_max_window_bits")
        agreed["client_bits"] = int(limit) if limit else 15
    return agreed


def compress(agreed, payload):
    """One message's payload as the client sends it (§7.2.1).

    zlib refuses raw DEFLATE with an 8-bit window; with 9 bits it never
    references more than 512 - 262 = 250 bytes back (MAX_DIST), inside
    the 256 a peer that asked for 8 keeps.
    """
    deflater = zlib.compressobj(1, zlib.DEFLATED, -max(agreed["client_bits"], 9))
    data = deflater.compress(payload) + deflater.flush(zlib.Z_SYNC_FLUSH)
    if not data.endswith(TAIL):
        raise RuntimeError("sync flush did not end with an empty block")
    return data[: -len(TAIL)]


async def read_frame(reader):
    """One unmasked server frame: (first byte, payload)."""
    first, second = await reader.readexactly(2)
    if second & 0x80:
        raise RuntimeError("server frame is masked")
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    if length > 1 << 20:
        raise RuntimeError(f"echo frame of {length} bytes")
    return first, await reader.readexactly(length)


async def open_idle(port, offer=None):
    """One connection: handshake, one echo.

    Returns the open streams and, with an offer, the agreed parameters
    (None when the server declined) and whether the echo was compressed.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    extensions = f"Sec-WebSocket-Extensions: {offer}\r\n" if offer else ""
    writer.write(
        (
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {key}\r\n{extensions}\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"handshake refused: {head[:40]!r}")
    agreed = negotiate(offer, head) if offer else None
    if agreed:
        writer.write(masked_text(compress(agreed, PAYLOAD), rsv1=True))
    else:
        writer.write(masked_text(PAYLOAD))
    await writer.drain()
    first, payload = await read_frame(reader)
    if first & 0x3F != 0x01 or not first & 0x80:
        raise RuntimeError(f"echo is not one text frame: {first:#x}")
    compressed = bool(first & 0x40)
    if compressed:
        if not agreed:
            raise RuntimeError("RSV1 without permessage-deflate")
        # The server's window as agreed: a longer reference fails here.
        inflater = zlib.decompressobj(-agreed["server_bits"])
        payload = inflater.decompress(payload + TAIL)
    if payload != PAYLOAD:
        raise RuntimeError("echo differs")
    return reader, writer, agreed, compressed


async def measure(argv, n, offer=None):
    """RSS before and after n idle connections, and what was agreed."""
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
        _, warm, agreed, compressed = await open_idle(port, offer)
        await asyncio.sleep(0.5)
        before = rss_kib(server.pid)
        conns = []
        for start in range(0, n, 200):
            batch = [open_idle(port, offer) for _ in range(min(200, n - start))]
            conns += await asyncio.gather(*batch)
        await asyncio.sleep(1.0)
        after = rss_kib(server.pid)
        for _, writer, each_agreed, each_compressed in conns:
            if (each_agreed, each_compressed) != (agreed, compressed):
                raise RuntimeError("connections negotiated differently")
            writer.close()
        warm.close()
        return before, after, agreed, compressed
    finally:
        server.kill()
        server.wait()


def describe(agreed, compressed):
    """What a deflate row ran with: the agreed windows, takeover, echo."""
    if agreed is None:
        return "declined: measured without deflate"
    text = f"client {agreed['client_bits']}, server {agreed['server_bits']}"
    if agreed["client_nct"] or agreed["server_nct"]:
        text += ", no takeover " + "+".join(
            side for side in ("client", "server") if agreed[f"{side}_nct"]
        )
    return text + ("" if compressed else "; echo uncompressed")


def main():
    args = sys.argv[1:]
    deflate = "--deflate" in args
    args = [arg for arg in args if arg != "--deflate"]
    n = int(args[0]) if args else 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * n + 100))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if deflate:
        deflate_table(n)
        return
    print(f"{n} idle connections, each after its handshake and one 32-byte echo")
    print(f"{'server':<22} {'RSS before':>11} {'RSS after':>11} {'per conn':>10}")
    for name, argv in SERVERS.items():
        if not os.path.exists(argv[0]):
            print(f"{name:<22} not built: {argv[0]}")
            continue
        # The server inherits the raised descriptor limit.
        before, after, _, _ = asyncio.run(measure(argv, n))
        per = (after - before) / n
        print(f"{name:<22} {before:>8} KiB {after:>8} KiB {per:>6.1f} KiB")


def deflate_table(n):
    print(
        f"{n} idle connections with permessage-deflate, each after its "
        "handshake and one compressed 32-byte echo; RSS growth per connection"
    )
    print(f"{'offer':<20} {'server':<20} {'per conn':>10}  agreed (window bits)")
    for label, offer in OFFERS.items():
        for name, argv in DEFLATE_SERVERS.items():
            if not os.path.exists(argv[0]):
                print(f"{label:<20} {name:<20} not built: {argv[0]}")
                continue
            before, after, agreed, compressed = asyncio.run(measure(argv, n, offer))
            per = (after - before) / n
            print(
                f"{label:<20} {name:<20} {per:>6.1f} KiB  "
                f"{describe(agreed, compressed)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
