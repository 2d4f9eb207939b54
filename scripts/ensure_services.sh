#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1, starting them (or installing them with
# apt-get, as root) when they do not. Used by `make test` and `make bench`.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432
REDIS_PORT=6379

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  echo "ensure_services: installing $*" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h "$PGHOST" -p "$PGPORT"; }
redis_up() { command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 30); do
    if $check; then return 0; fi
    sleep 1
  done
  echo "ensure_services: $what did not come up" >&2
  return 1
}

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -z "$version" ]; then echo "ensure_services: no PostgreSQL cluster found" >&2; exit 1; fi
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Tests connect as postgres without a password on loopback only.
  if ! grep -qE '^host\s+all\s+all\s+127.0.0.1/32\s+trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
  wait_for PostgreSQL pg_up
fi

if ! redis_up; then
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/livemarket.log
  wait_for Redis redis_up
fi

# The database named in the default DATABASE_URL (pytest-django makes its own test_ copy).
if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='livemarket'" | grep -q 1; then
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -qc "CREATE DATABASE livemarket" >/dev/null
fi
# nginx fronts the loopback cluster (`make cluster`, tests/deploy); only the binary is needed.
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then apt_install nginx; fi
echo "ensure_services: PostgreSQL and Redis are up"
