#!/usr/bin/env bash
# Make sure Debian's chromium (driven by Playwright in tests/e2e) is installed, installing it with
# apt-get (as root, or through sudo) when it is missing. Playwright's own browser download is not
# used: the e2e fixtures launch /usr/bin/chromium through executable_path. Used by `make test`.
set -euo pipefail

CHROMIUM=${LIVEMARKET_CHROMIUM:-/usr/bin/chromium}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure_browser: installing chromium" >&2
  as_root apt-get update -qq
  # The colour emoji font makes the reactions and badges render in screenshots as they do on phones.
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi
if ! "$CHROMIUM" --version >/dev/null 2>&1; then
  echo "ensure_browser: $CHROMIUM does not run" >&2
  exit 1
fi
echo "ensure_browser: $("$CHROMIUM" --version 2>/dev/null)"
