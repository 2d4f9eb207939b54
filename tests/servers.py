"""Real server processes for end-to-end tests: uvicorn running config.asgi, and a private redis-server.

Every process is started in its own session and stopped by its own process group id, never by name.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
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


def consecutive_free_ports(count: int) -> int:
    """The first of `count` free ports in a row (deploy/cluster.py puts nginx and the ASGI processes there)."""
    for _ in range(50):
        base = free_port()
        if base + count <= 65535 and all(_port_free(base + n) for n in range(1, count)):
            return base
    raise AssertionError(f"no {count} free ports in a row")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(check, *, timeout: float, what: str, logs=(), interval: float = 0.2):
    """Poll `check` until it returns something truthy (returned); fail with the logs' tails after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tails}")


def start_celery(
    *args: str, log: Path, redis_url: str, db_url: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.Popen:
    """`celery -A tests.celery_worker <args>` (config.celery's app, see tests/celery_worker.py) on the
    test database, with real (not eager) tasks on the broker at `redis_url`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": db_url or database_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **(extra_env or {}),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return _spawn([str(PROJECT / ".venv/bin/celery"), "-A", "tests.celery_worker", *args], env=env, log=log)


def start_worker(
    *, name: str, log: Path, redis_url: str, queue: str | None = None, **kwargs
) -> subprocess.Popen:
    """One worker process running one task at a time (solo pool), so a kill hits a known task."""
    args = ["worker", "--pool=solo", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    args += ["-l", "info", "-n", f"{name}@%h", *(["-Q", queue] if queue else [])]
    return start_celery(*args, log=log, redis_url=redis_url, **kwargs)


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb into a fresh directory, its own port and socket
    directory), for tests that stop or restart the database: the shared server on 5432 is never touched.
    As root, every PostgreSQL command runs as the `postgres` user (initdb refuses root)."""

    def __init__(self):
        bins = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
        )
        if not bins:
            raise AssertionError("no PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin")
        self.bin = bins[-1].parent
        # Not under pytest's tmp_path: its 0700 parent directories keep the postgres user out.
        self.root = Path(tempfile.mkdtemp(prefix="lm-private-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres", group="postgres")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise AssertionError(f"{tool} {' '.join(args)} failed:\n{result.stdout}{result.stderr}\n{log}")

    def _pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            *args,
        )

    def start(self) -> None:
        if not self.data.exists():
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"
            )
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self._pg_ctl("restart", "-m", mode)

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def destroy(self) -> None:
        """Stop the server (immediately) and remove its files. Safe to call twice."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError):
                self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)
