"""Websocket viewers for the fan-out scenario: one process holds many connections on one asyncio loop.

The driver talks to each client process over a pipe:
  ("grow", n, urls)   open connections until this process holds n, spread round-robin over urls
  ("record", first)   forget what was received so far; count messages numbered first or later from now on
                      (earlier ones are the chat history a new socket is sent, or a backlog)
  ("report", first, last)  return what arrived for the messages numbered first..last
  ("stop",)
A bench message is a chat event whose text is "bench <seq> <sent_at>"; it may arrive alone or inside a
`batch` frame (the app coalesces chat per 50 ms tick). Latency is arrival time minus sent_at (both
time.time() on the same machine).
"""

import asyncio
import contextlib
import json
import time
from array import array
from urllib.parse import urlsplit


class Viewer:
    __slots__ = ("last_seq", "received", "out_of_order", "socket", "task")

    def __init__(self):
        self.last_seq = 0
        self.received = array("l")
        self.out_of_order = 0
        self.socket = None
        self.task = None


class ClientProcess:
    def __init__(self):
        self.viewers: list[Viewer] = []
        self.latencies = array("d")
        self.recording = False
        self.first_seq = 0
        self.connect_failures = 0
        self.closed_early = 0

    def _bench_events(self, frame: dict):
        if frame.get("type") == "batch":
            for event in frame.get("events", ()):
                yield from self._bench_events(event)
        elif frame.get("type") == "chat":
            text = frame.get("text", "")
            if text.startswith("bench "):
                _, seq, sent_at = text.split(" ", 2)
                yield int(seq), float(sent_at)

    async def _listen(self, viewer: Viewer) -> None:
        try:
            async for message in viewer.socket:
                if not self.recording:
                    continue
                now = time.time()
                if "bench " not in message:
                    continue
                for seq, sent_at in self._bench_events(json.loads(message)):
                    if seq < self.first_seq:
                        continue
                    self.latencies.append(now - sent_at)
                    viewer.received.append(seq)
                    if seq < viewer.last_seq:
                        viewer.out_of_order += 1
                    viewer.last_seq = max(viewer.last_seq, seq)
        except Exception:  # noqa: BLE001 - counted: the connection closed under load
            self.closed_early += 1

    async def _open(self, url: str) -> None:
        from websockets.asyncio.client import connect

        parts = urlsplit(url)
        viewer = Viewer()
        try:
            viewer.socket = await connect(
                url,
                origin=f"http://{parts.hostname}:{parts.port}",
                compression=None,
                ping_interval=None,
                max_queue=None,
                open_timeout=60,
                max_size=2**22,
            )
        except Exception:  # noqa: BLE001
            self.connect_failures += 1
            return
        viewer.task = asyncio.create_task(self._listen(viewer))
        self.viewers.append(viewer)

    async def grow(self, n: int, urls: list[str]) -> None:
        gate = asyncio.Semaphore(25)  # connection attempts in flight

        async def one(index: int):
            async with gate:
                await self._open(urls[index % len(urls)])

        start = len(self.viewers)
        await asyncio.gather(*(one(i) for i in range(start, n)))

    def record(self, first_seq: int) -> None:
        self.first_seq = first_seq
        self.latencies = array("d")
        for viewer in self.viewers:
            viewer.received = array("l")
            viewer.last_seq = 0
            viewer.out_of_order = 0
        self.recording = True

    def report(self, first: int, last: int) -> dict:
        self.recording = False
        expected = last - first + 1 if last >= first else 0
        delivered = lost = out_of_order = 0
        for viewer in self.viewers:
            got = {seq for seq in viewer.received if first <= seq <= last}
            delivered += len(got)
            lost += expected - len(got)
            out_of_order += viewer.out_of_order
        return {
            "connections": len(self.viewers),
            "delivered": delivered,
            "lost": lost,
            "out_of_order": out_of_order,
            "latencies": self.latencies.tobytes(),
            "connect_failures": self.connect_failures,
            "closed_early": self.closed_early,
        }

    async def close(self) -> None:
        for viewer in self.viewers:
            with contextlib.suppress(Exception):  # shutting down
                await asyncio.wait_for(viewer.socket.close(), 2)


def client_main(pipe) -> None:
    """Entry point of a client process (multiprocessing, spawn)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(pipe))


async def _serve(pipe) -> None:
    client = ClientProcess()
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "grow":
            await client.grow(command[1], command[2])
            pipe.send(("grown", len(client.viewers), client.connect_failures))
        elif command[0] == "record":
            client.record(command[1])
            pipe.send(("recording",))
        elif command[0] == "report":
            pipe.send(("report", client.report(command[1], command[2])))
        elif command[0] == "stop":
            await client.close()
            pipe.send(("stopped",))
            return
