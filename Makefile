# Livemarket: the two commands (see README.md and shared/CONTRACT.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint bench install install-dev services cluster browser screenshots lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Installs come from the lock files (requirements*.txt: every version pinned, with hashes), so a
# fresh clone gets what the suite last passed on. Reinstall only when a lock file changes.
PIP_SYNC := $(BIN)/pip install -q --require-hashes --no-deps
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(PIP_SYNC) -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt pyproject.toml | $(BIN)/python
	$(PIP_SYNC) -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: requirements-bench.txt pyproject.toml | $(BIN)/python
	$(PIP_SYNC) -r requirements-bench.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: embedded default (SQLite, in-memory channel layer, eager Celery) at http://127.0.0.1:8000
demo: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py seed_demo
	@echo "Serving http://$(HOST):$(PORT) (Ctrl-C stops it)"
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py run_timers --interval 5 > /dev/null & timers=$$!; \
	trap "kill $$timers 2>/dev/null" EXIT INT TERM; \
	env -u DATABASE_URL -u REDIS_URL $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT)

services:
	./scripts/ensure_services.sh

# Debian's chromium for the Playwright e2e tests (tests/e2e); installed with apt-get when missing.
browser:
	./scripts/ensure_browser.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make test: linters, then the whole suite on PostgreSQL and Redis
test: install-dev services browser lint
	$(BIN)/python -m pytest -n auto --dist loadfile

## make bench: flash sale, live-room fan-out, storefront and inventory sync against their ceilings
## (< 10 min on 2 cores; writes bench/results.json and docs/benchmarks.md). BENCH_ARGS=--quick for small counts.
bench: $(VENV)/.installed-bench services
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	ulimit -n 65536 2>/dev/null || true; $(BIN)/python -m bench.run $(BENCH_ARGS)

## make screenshots: refresh docs/screenshots/ (home, show page on phone and desktop, product, checkout, host console)
screenshots: install-dev services browser
	LIVEMARKET_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/e2e/test_screenshots.py

## make cluster: the production topology on loopback (nginx :8100 -> 2 uvicorn, 2 Celery workers, beat)
cluster: install services
	command -v nginx >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx)
	$(BIN)/python deploy/cluster.py

## make lock: upgrade every pinned version on purpose (requirements*.txt), then the whole suite is the gate.
## Dev and bench are compiled against the runtime lock, so the three sets agree.
LOCK := $(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links --no-emit-trusted-host
lock: install-dev
	$(LOCK) --upgrade -o requirements.txt pyproject.toml
	$(LOCK) --upgrade --extra dev -c requirements.txt -o requirements-dev.txt pyproject.toml
	$(LOCK) --upgrade --extra bench -c requirements.txt -o requirements-bench.txt pyproject.toml
	$(MAKE) test
