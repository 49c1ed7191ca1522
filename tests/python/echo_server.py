"""Python `websockets` as an echo server for wsproto's client.

    python echo_server.py [--deflate] [--lifetime SECONDS]

Listens on 127.0.0.1, on a port the OS picks, and prints the port on a line
of its own. Echoes every message; offers permessage-deflate with --deflate.
Stops by itself after --lifetime seconds (default 60).
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    args = sys.argv[1:]
    compression = "deflate" if "--deflate" in args else None
    lifetime = 60.0
    if "--lifetime" in args:
        lifetime = float(args[args.index("--lifetime") + 1])
    async with serve(echo, "127.0.0.1", 0, compression=compression, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.sleep(lifetime)


if __name__ == "__main__":
    asyncio.run(main())
