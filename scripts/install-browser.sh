#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/e2e/test_web.py) if it is missing.
# Nothing downloads a browser of its own: Playwright drives this system chromium via
# executable_path="/usr/bin/chromium". Needs root (or sudo) and the Debian archive.
set -euo pipefail
BROWSER=/usr/bin/chromium
if [ -x "$BROWSER" ]; then
  echo "chromium is installed: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "installing chromium needs root: run this script as root or install sudo" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
if [ ! -x "$BROWSER" ]; then
  echo "apt-get finished but $BROWSER is still missing" >&2
  exit 1
fi
echo "installed: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")"
