"""What every scenario shares: the bench environment (a fresh database, a private redis-server, production
settings), statistics, machine facts, and starting/stopping the real servers.

The driver process sets the environment once (`bench_environment`) before Django is imported, so every
process it starts (uvicorn, clients, the sync subprocess) inherits the same production settings.
"""

import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT = Path(__file__).resolve().parents[1]


def _run_db_name() -> str:
    """The bench's throwaway database: named after DATABASE_URL's database, so two runs on different
    databases (two people on one machine) never drop each other's."""
    base = urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/")
    return f"{base}_bench_run" if base else "lm_bench_run"


RUN_DB = _run_db_name()
SECRET = "bench-only-secret-key-not-for-production-0123456789abcdefghijklmnop"  # noqa: S105
# Production settings refuse the development default (config/checks.py); no bench sends a webhook.
WEBHOOK_SECRET = "whsec_bench-only-not-for-production-0123456789abcdef"  # noqa: S105
LOGS = PROJECT / "bench" / "logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _db_url(base_url: str, name: str) -> str:
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def bench_environment(*, redis_port: int) -> dict[str, str]:
    """Production settings against the bench's own database and redis-server (set in os.environ)."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lm_bench")
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": _db_url(base, RUN_DB),
        "BENCH_ADMIN_DATABASE_URL": _db_url(base, "postgres"),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DJANGO_SECRET_KEY": SECRET,
        "LIVEMARKET_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LIVEMARKET_SITE_URL": "http://127.0.0.1:8000",
        "DJANGO_LOG_LEVEL": "WARNING",
        # No Celery worker runs: tasks are enqueued to Redis as in production and never executed.
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LIVEMARKET_BENCH_VIEWS": "true",
        "PYTHONPATH": str(PROJECT),
    }
    os.environ.update(env)
    return env


def database_recreate() -> None:
    """Drop and create the run database (lm_bench_run by default): every run starts from an empty, freshly migrated database."""
    import psycopg

    with psycopg.connect(os.environ["BENCH_ADMIN_DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{RUN_DB}"')


def database_drop() -> None:
    import psycopg

    with psycopg.connect(os.environ["BENCH_ADMIN_DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)')


# --- processes -------------------------------------------------------------------------------------
def spawn(command: list[str], *, log_name: str, env: dict | None = None) -> subprocess.Popen:
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / log_name).open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - fixed command lines
            command,
            cwd=PROJECT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen | None) -> None:
    """Stop a process the bench started (and its children) by its own process group."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def start_redis(port: int) -> subprocess.Popen:
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = spawn(command, log_name="redis.log")
    import redis

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5).ping()
            return process
        except redis.RedisError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError("redis-server did not start")


# As the Procfile runs it: uvloop, httptools, and websockets' sans-I/O protocol (uvicorn's `auto` picks
# the same when they are installed; naming them makes a missing one an error, not a slower fallback).
# BENCH_UVICORN_WS=websockets (or wsproto, if installed) runs the fan-out on another implementation.
UVICORN_PROTOCOLS = (
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--ws",
    os.environ.get("BENCH_UVICORN_WS", "websockets-sansio"),
    "--ws-max-size",  # 4 x LIVEMARKET_WS_MAX_FRAME, as the Procfile
    "131072",
)


def start_uvicorn(*, port: int, workers: int = 1, log_name: str) -> subprocess.Popen:
    """The production server as the README runs it (uvicorn, config.asgi, production settings)."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        *UVICORN_PROTOCOLS,
    ]
    process = spawn(command, log_name=log_name)
    wait_http(f"http://127.0.0.1:{port}/healthz", process, log_name=log_name)
    return process


def http_get(url: str, *, timeout: float = 5, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **(headers or {})})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_http(url: str, process: subprocess.Popen, *, log_name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{log_name}: exited\n{(LOGS / log_name).read_text()[-3000:]}")
        try:
            status, _ = http_get(url, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{log_name}: never answered {url}")


# --- statistics ------------------------------------------------------------------------------------
def percentile(values, q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(seconds) -> dict:
    """p50/p95/p99/max in milliseconds."""
    values = list(seconds)
    return {
        "count": len(values),
        **{f"p{q}_ms": None if not values else round(percentile(values, q) * 1000, 2) for q in (50, 95, 99)},
        "max_ms": round(max(values) * 1000, 2) if values else None,
    }


def ratio(value: float | None, ceiling: float | None) -> float | None:
    if not value or not ceiling:
        return None
    return round(value / ceiling, 3)


# --- machine ---------------------------------------------------------------------------------------
def _command_output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info() -> dict:
    import psycopg

    memory_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    with psycopg.connect(os.environ["BENCH_ADMIN_DATABASE_URL"]) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = re.search(r"v=(\S+)", _command_output(["redis-server", "--version"]))
    cpu_model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": postgres,
        "redis": redis_version.group(1) if redis_version else "",
        "os": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")
