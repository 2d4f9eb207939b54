"""The production topology on loopback, for local trials (`make cluster`) and for tests/deploy:
nginx on one port in front of two uvicorn processes, two Celery workers and beat, all with
`config.settings.production` against PostgreSQL and Redis.

    python deploy/cluster.py [--port 8100] [--no-seed]

Ctrl-C stops every process (each is started in its own process group and stopped by it).
"""

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

NGINX_CONF = """
{user}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log {workdir}/nginx-access.log;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    client_max_body_size 12m;

    upstream livemarket_asgi {{
        least_conn;
{servers}
        keepalive 16;
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    server {{
        listen 127.0.0.1:{port};
        location /static/ {{
            alias {static}/;
            expires 30d;
        }}
        location /ws/ {{
            proxy_pass http://livemarket_asgi;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 3600s;
        }}
        location / {{
            proxy_pass http://livemarket_asgi;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout http_502;
        }}
    }}
}}
"""


def production_env(
    *,
    database_url: str,
    redis_url: str,
    static_root: Path,
    secret_key: str | None = None,
    webhook_secret: str | None = None,
    site_url: str = "http://127.0.0.1:8100",
) -> dict[str, str]:
    """The environment of every process: `config.settings.production` on plain HTTP on loopback.
    A secret not given gets a fresh random value: production refuses to start on the defaults.
    `site_url` is where e-mails link (nginx's address)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": secret_key or secrets.token_urlsafe(50),
        "LIVEMARKET_PAYMENT_WEBHOOK_SECRET": webhook_secret or "whsec_" + secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LIVEMARKET_SITE_URL": site_url,
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "ACCOUNT_EMAIL_VERIFICATION": "optional",
        "STATIC_ROOT": str(static_root),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


class Cluster:
    """Start and stop the topology. `env` is what every process gets (settings, URLs, secrets)."""

    def __init__(
        self,
        *,
        workdir: Path,
        database_url: str,
        redis_url: str,
        port: int,
        secret_key: str | None = None,
        webhook_secret: str | None = None,
    ):
        self.workdir = workdir
        self.port = port
        self.asgi_ports = (port + 1, port + 2)
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = production_env(
            database_url=database_url,
            redis_url=redis_url,
            static_root=workdir / "static",
            secret_key=secret_key,
            webhook_secret=webhook_secret,
            site_url=f"http://127.0.0.1:{port}",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> None:
        """Run a management command; on failure raise with what it printed."""
        result = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args], cwd=PROJECT, env=self.env, capture_output=True, text=True
        )
        if result.returncode:
            output = (result.stdout + result.stderr)[-3000:]
            raise RuntimeError(f"manage.py {' '.join(args)} exited {result.returncode}:\n{output}")

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - fixed command lines
            command, cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self, *, celery: bool = True) -> None:
        """Start everything; `celery=False` leaves out the workers and beat (nginx and ASGI only)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.manage("check", "--deploy")  # as the Procfile does: fails on a default or empty secret
        self.manage("collectstatic", "--noinput")
        for n, asgi_port in enumerate(self.asgi_ports, 1):
            self._spawn(
                f"asgi{n}",
                [str(VENV_BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port",
                 str(asgi_port), "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
                 "--proxy-headers", "--ws-max-size", "131072", "--log-level", "warning"],
            )  # fmt: skip
        for n in (1, 2) if celery else ():
            self._spawn(
                f"worker{n}",
                [str(VENV_BIN / "celery"), "-A", "config", "worker", "-n", f"worker{n}@%h", "--concurrency",
                 "2", "--loglevel", "info", "--without-gossip", "--without-mingle"],
            )  # fmt: skip
        if celery:
            self._spawn("beat", [str(VENV_BIN / "celery"), "-A", "config", "beat", "--loglevel", "info"])
        servers = "\n".join(
            f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;" for p in self.asgi_ports
        )
        conf = self.workdir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                # As root, workers run as root too: they read files in the (private) work directory.
                user="user root;" if os.geteuid() == 0 else "",
                workdir=self.workdir,
                servers=servers,
                port=self.port,
                static=self.workdir / "static",
            )
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self._spawn("nginx", [nginx, "-c", str(conf), "-p", str(self.workdir), "-g", "daemon off;"])
        for asgi_port in self.asgi_ports:
            self._wait_ok(f"http://127.0.0.1:{asgi_port}/healthz")
        self._wait_ok(f"{self.url}/healthz")

    def _wait_ok(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    log = (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name} exited:\n{log}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{url} never answered 200")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=8100, help="nginx's port (the ASGI processes take the next two)"
    )
    parser.add_argument("--no-seed", action="store_true", help="Don't run seed_demo.")
    args = parser.parse_args()
    cluster = Cluster(
        workdir=PROJECT / "var" / "cluster",
        database_url=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/livemarket_cluster"),
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
        port=args.port,
        secret_key=os.environ.get("DJANGO_SECRET_KEY"),
        webhook_secret=os.environ.get("LIVEMARKET_PAYMENT_WEBHOOK_SECRET"),
    )
    database = cluster.env["DATABASE_URL"].rsplit("/", 1)[-1]
    createdb = ["createdb", "-h", "127.0.0.1", "-U", "postgres", database]
    subprocess.run(createdb, stderr=subprocess.DEVNULL, check=False)  # noqa: S603,S607 - when missing
    cluster.manage("migrate", "--noinput")
    if not args.no_seed:
        cluster.manage("seed_demo")
    try:
        cluster.start()
        print(f"Livemarket cluster at {cluster.url} (nginx -> uvicorn :{cluster.asgi_ports[0]} and "
              f":{cluster.asgi_ports[1]}, 2 Celery workers, beat). Logs in {cluster.workdir}. Ctrl-C stops it.")  # fmt: skip
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
