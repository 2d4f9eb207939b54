"""Scenario 2, live-room fan-out: viewers on two ASGI server processes sharing Redis; the host chats.

App: two uvicorn processes (production settings, one worker each) share the bench's redis-server.
The host's messages go through the real service (shows.services.chat_post: saved, then published once
to Redis on commit; each process writes it to its own sockets, chat coalesced per 50 ms tick). Each
message's text is "bench <seq> <sent_at>", so viewers measure delivery latency, loss and order.
Viewer counts ramp through `steps` (each held for `step_seconds`, the last for `main_seconds`).
Ceiling: two bare `websockets` broadcast processes (bench/bare_ws.py), the same viewers spread the same
way, and the same messages sent by a publisher socket to each process.
Viewers: two client processes (bench/ws_clients.py), each with half the connections on one event loop.
"""

import asyncio
import contextlib
import json
import multiprocessing
import sys
import time
from array import array

from .common import free_port, latency_summary, spawn, start_uvicorn, stop

CLIENT_PROCESSES = 2
GRACE_SECONDS = 3  # after the last message: anything later counts as lost
GOAL_P99_MS = 250
PLOT_SAMPLE = 2000


class Clients:
    def __init__(self):
        context = multiprocessing.get_context("spawn")
        from .ws_clients import client_main

        self.pipes, self.processes = [], []
        for _ in range(CLIENT_PROCESSES):
            parent, child = context.Pipe()
            process = context.Process(target=client_main, args=(child,), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def ask(self, command: tuple, timeout: float = 300) -> list:
        for pipe in self.pipes:
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RuntimeError(f"a client process did not answer {command[0]}")
            answers.append(pipe.recv())
        return answers

    def grow(self, total: int, urls: list[str]) -> tuple[int, int]:
        per_process = total // CLIENT_PROCESSES
        answers = self.ask(("grow", per_process, urls))
        return sum(a[1] for a in answers), sum(a[2] for a in answers)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, EOFError):
            self.ask(("stop",), timeout=30)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


class Sequence:
    value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def _send_for(seconds: float, rate: float, send, seq: Sequence) -> tuple[int, int, float]:
    """Send at `rate` per second for `seconds`; returns (first seq, last seq, real seconds)."""
    first = seq.value + 1
    count = int(seconds * rate)
    start = time.time()
    for n in range(count):
        delay = start + n / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        number = seq.next()
        send(number, time.time())
    return first, seq.value, time.time() - start


def _phase(clients: Clients, *, viewers: int, seconds: float, rate: float, send, seq: Sequence) -> dict:
    clients.ask(("record", seq.value + 1))
    first, last, took = _send_for(seconds, rate, send, seq)
    time.sleep(GRACE_SECONDS)
    reports = [answer[1] for answer in clients.ask(("report", first, last))]
    latencies = array("d")
    for report in reports:
        latencies.frombytes(report["latencies"])
    delivered = sum(r["delivered"] for r in reports)
    connections = sum(r["connections"] for r in reports)
    step = max(1, len(latencies) // PLOT_SAMPLE)
    return {
        "viewers": viewers,
        "connections": connections,
        "messages_sent": last - first + 1,
        "send_seconds": round(took, 2),
        "expected_deliveries": (last - first + 1) * connections,
        "delivered": delivered,
        "delivered_per_second": round(delivered / took, 1) if took else None,
        "lost": sum(r["lost"] for r in reports),
        "out_of_order": sum(r["out_of_order"] for r in reports),
        "closed_early": sum(r["closed_early"] for r in reports),
        "latency": latency_summary(latencies),
        "latencies_s": [round(x, 5) for x in sorted(latencies)[::step]],
    }


def _ramp(clients: Clients, *, urls, steps, step_seconds, main_seconds, rate, send, seq, log, label) -> list:
    phases = []
    for index, viewers in enumerate(steps):
        connected, failures = clients.grow(viewers, urls)
        log(f"fan-out {label}: {connected} viewers connected ({failures} failed)")
        seconds = main_seconds if index == len(steps) - 1 else step_seconds
        phase = _phase(clients, viewers=viewers, seconds=seconds, rate=rate, send=send, seq=seq)
        phase["connect_failures"] = failures
        log(
            f"fan-out {label} {viewers}: p99 {phase['latency']['p99_ms']} ms, lost {phase['lost']}, "
            f"{phase['delivered_per_second']}/s"
        )
        phases.append(phase)
    return phases


def _seed() -> tuple[int, int]:
    from django.utils import timezone

    from catalog.services import product_create, variant_create
    from shops.services import shop_create, user_create
    from shows.services import show_create, show_go_live, show_pin_product

    host = user_create(username="room-host", email="room-host@bench.test", password=None)
    shop = shop_create(owner=host, name="Room Shop", slug="room-shop")
    product = product_create(shop=shop, title="Room lamp")
    variant_create(product=product, sku="ROOM-1", price="20.00", on_hand=10)
    show = show_go_live(
        show=show_create(shop=shop, title="Big room", scheduled_start=timezone.now(), products=[product])
    )
    show_pin_product(show=show, user=host, product_id=product.pk)
    return show.pk, host.pk


def _app(*, steps, step_seconds, main_seconds, rate, seq, log) -> dict:
    from django.conf import settings

    from shops.models import User
    from shows.models import Show
    from shows.services import chat_post

    show_id, host_id = _seed()
    show, host = Show.objects.get(pk=show_id), User.objects.get(pk=host_id)

    def send(number: int, sent_at: float) -> None:
        chat_post(show=show, user=host, text=f"bench {number} {sent_at:.6f}")

    ports = [free_port(), free_port()]
    servers = [start_uvicorn(port=p, workers=1, log_name=f"fanout-uvicorn-{p}.log") for p in ports]
    clients = None
    try:
        clients = Clients()
        urls = [f"ws://127.0.0.1:{p}/ws/shows/{show_id}/" for p in ports]
        phases = _ramp(
            clients,
            urls=urls,
            steps=steps,
            step_seconds=step_seconds,
            main_seconds=main_seconds,
            rate=rate,
            send=send,
            seq=seq,
            log=log,
            label="app",
        )
    finally:
        if clients:
            clients.close()
        for server in servers:
            stop(server)
    return {"phases": phases, "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"]}


class _Publisher:
    """The ceiling's host: one socket per bare server, the same message sent to each."""

    def __init__(self, ports: list[int]):
        self.loop = asyncio.new_event_loop()
        self.sockets = self.loop.run_until_complete(self._connect(ports))

    async def _connect(self, ports):
        from websockets.asyncio.client import connect

        return [
            await connect(f"ws://127.0.0.1:{p}/publish", compression=None, ping_interval=None) for p in ports
        ]

    def send(self, number: int, sent_at: float) -> None:
        text = json.dumps(
            {
                "type": "chat",
                "id": number,
                "user": "Host",
                "user_id": 1,
                "text": f"bench {number} {sent_at:.6f}",
                "at": "",
            }
        )
        self.loop.run_until_complete(self._send_all(text))

    async def _send_all(self, text: str) -> None:
        await asyncio.gather(*(s.send(text) for s in self.sockets))

    def close(self) -> None:
        for socket in self.sockets:
            self.loop.run_until_complete(socket.close())
        self.loop.close()


def _ceiling(*, viewers: int, seconds, rate, seq, log) -> dict:
    ports = [free_port(), free_port()]
    servers = [
        spawn([sys.executable, "-m", "bench.bare_ws", str(p)], log_name=f"bare-ws-{p}.log") for p in ports
    ]
    clients = publisher = None
    try:
        time.sleep(1.5)
        publisher = _Publisher(ports)
        clients = Clients()
        urls = [f"ws://127.0.0.1:{p}/room" for p in ports]
        phases = _ramp(
            clients,
            urls=urls,
            steps=[viewers],
            step_seconds=seconds,
            main_seconds=seconds,
            rate=rate,
            send=publisher.send,
            seq=seq,
            log=log,
            label="ceiling",
        )
    finally:
        if clients:
            clients.close()
        if publisher:
            publisher.close()
        for server in servers:
            stop(server)
    return {"phases": phases}


def run(*, steps: list[int], step_seconds: float, main_seconds: float, rate: float, log) -> dict:
    seq = Sequence()
    app = _app(steps=steps, step_seconds=step_seconds, main_seconds=main_seconds, rate=rate, seq=seq, log=log)
    ceiling = _ceiling(viewers=steps[-1], seconds=main_seconds, rate=rate, seq=seq, log=log)
    main, top = app["phases"][-1], ceiling["phases"][-1]
    holding = [
        p["viewers"]
        for p in app["phases"]
        if p["latency"]["p99_ms"] is not None and p["latency"]["p99_ms"] < GOAL_P99_MS and p["lost"] == 0
    ]
    delivered_ratio = (
        round(main["delivered_per_second"] / top["delivered_per_second"], 3)
        if main["delivered_per_second"] and top["delivered_per_second"]
        else None
    )
    return {
        "rate_per_second": rate,
        "step_seconds": step_seconds,
        "main_seconds": main_seconds,
        "app": app,
        "ceiling": ceiling,
        "viewers": main["viewers"],
        "delivered_ratio": delivered_ratio,
        "largest_viewers_p99_under_250ms": max(holding) if holding else 0,
        "goal": "p99 < 250 ms, 0 lost, delivered/s >= 0.5 x ceiling",
        "goal_met": bool(
            main["latency"]["p99_ms"] is not None
            and main["latency"]["p99_ms"] < GOAL_P99_MS
            and main["lost"] == 0
            and delivered_ratio
            and delivered_ratio >= 0.5
        ),
    }
