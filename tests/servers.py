"""Real server processes for end-to-end tests: uvicorn running config.asgi, and a private redis-server.

Every process is started in its own session and stopped by its own process group id, never by name.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The database the test is using right now (the test database, with committed rows)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _spawn(command: list[str], *, env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - a fixed command line
            command, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen | None, *, sig: int = signal.SIGTERM) -> None:
    """Stop a process we started (and its children), by its own process group."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def start_uvicorn(
    *,
    port: int,
    redis_url: str,
    log: Path,
    db_url: str | None = None,
    settings_module: str = "config.settings",
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": db_url or database_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # sessions made by the test must verify
        "DJANGO_DEBUG": "false",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        **(extra_env or {}),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [
        str(PROJECT / ".venv/bin/uvicorn"),
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return _spawn(command, env=env, log=log)


def http_get(url: str, *, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_healthy(port: int, process: subprocess.Popen, *, log: Path, timeout: float = 40) -> None:
    """Until /healthz answers 200 (the server imported Django and reached the database and Redis)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"uvicorn on {port} exited:\n{log.read_text()[-3000:]}")
        try:
            status, _ = http_get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"uvicorn on {port} never became healthy:\n{log.read_text()[-3000:]}")


def start_redis(*, port: int, log: Path) -> subprocess.Popen:
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = _spawn(command, env=dict(os.environ), log=log)
    import redis

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
            client.ping()
            client.close()
            return process
        except redis.RedisError:
            time.sleep(0.1)
    stop(process, sig=signal.SIGKILL)
    raise AssertionError(f"redis-server on {port} never answered:\n{log.read_text()[-2000:]}")
