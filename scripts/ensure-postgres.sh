#!/usr/bin/env bash
# Start the machine's PostgreSQL if it is not accepting connections (CI and fresh machines).
set -euo pipefail
HOSTADDR=${PGHOST:-127.0.0.1}
PORTNUM=${PGPORT:-5432}
ready() { pg_isready -q -h "$HOSTADDR" -p "$PORTNUM" 2>/dev/null; }
if ready; then exit 0; fi
if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version ..." >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
echo "PostgreSQL is not reachable at $HOSTADDR:$PORTNUM; the integration tests need it" >&2
exit 1
