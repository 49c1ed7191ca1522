"""Python `websockets` as a client against a wsproto echo server.

    python echo_client.py URL [--deflate]

Round-trips text and binary messages of every frame-length encoding, checks
that permessage-deflate was negotiated exactly when --deflate asks for it,
pings, and closes with 1000. Prints "ok" and exits 0 when all went well;
exits 1 with the reason otherwise.
"""

import sys

from websockets.sync.client import connect

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 1 << 20]


def text_of(n):
    unit = "wsproto κόσμε "
    s = (unit * (n // len(unit) + 1))[:n]
    return s


def main():
    url = sys.argv[1]
    deflate = "--deflate" in sys.argv[2:]
    compression = "deflate" if deflate else None
    with connect(url, compression=compression, max_size=None, open_timeout=10) as ws:
        names = [ext.name for ext in ws.protocol.extensions]
        want = ["permessage-deflate"] if deflate else []
        if names != want:
            sys.exit(f"extensions {names}, expected {want}")
        for n in SIZES:
            text = text_of(n)
            ws.send(text)
            got = ws.recv(timeout=10)
            if got != text:
                sys.exit(f"text of {n} characters came back different")
            data = bytes((i * 7 + 3) % 256 for i in range(n))
            ws.send(data)
            got = ws.recv(timeout=10)
            if got != data:
                sys.exit(f"binary of {n} bytes came back different")
        if not ws.ping(b"are you there?").wait(timeout=10):
            sys.exit("no pong")
        ws.close(code=1000, reason="python done")
        if ws.protocol.close_rcvd is None or ws.protocol.close_rcvd.code != 1000:
            sys.exit(f"close reply {ws.protocol.close_rcvd}, expected 1000")
    print("ok", flush=True)


if __name__ == "__main__":
    main()
