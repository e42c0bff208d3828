#!/usr/bin/env bash
# Install axe-core (npm) for the accessibility checks of the browser tests into
# .cache/axe-core/ (not committed). Prints the path of axe.min.js; exits 1 when npm or
# the registry is unreachable (the tests then skip the checks, saying why).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.cache/axe-core"
AXE="$DIR/node_modules/axe-core/axe.min.js"
if [ ! -f "$AXE" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is not installed" >&2; exit 1; }
  mkdir -p "$DIR"
  npm install --silent --no-audit --no-fund --prefix "$DIR" axe-core@4 >&2
fi
echo "$AXE"
