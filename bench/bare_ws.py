"""The fan-out ceiling: a bare `websockets` broadcast server (no Django, no Redis, no coalescing).

Viewers connect to any path; whatever the publisher sends on /publish is written at once to every viewer
of this process with websockets.broadcast. Run: python -m bench.bare_ws PORT
"""

import asyncio
import sys

from websockets.asyncio.server import broadcast, serve

viewers = set()


async def handler(socket) -> None:
    if socket.request.path == "/publish":
        async for message in socket:
            broadcast(viewers, message)
        return
    viewers.add(socket)
    try:
        await socket.wait_closed()
    finally:
        viewers.discard(socket)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=4096):
        await asyncio.Future()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1])))
