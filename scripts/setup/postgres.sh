#!/usr/bin/env bash
# Installs PostgreSQL server binaries (initdb, pg_ctl, postgres) from Debian for the CDC integration test
# (test/integration/rds-cdc-postgres.test.ts), which starts its own throw-away cluster. The test_decoding output plugin
# DMS uses ships in the server package. Does nothing when a server is already installed. Prints the bin directory.
set -euo pipefail

find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if ! bin=$(find_bin); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "The CDC test needs a PostgreSQL server (initdb, pg_ctl). Install it with your package manager (no apt-get here)." >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing postgresql (Debian package the CDC integration test needs)..." >&2
  $sudo apt-get update -qq
  # The postgresql package's maintainer scripts create and start a default cluster; the test doesn't use it.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
  bin=$(find_bin) || { echo "postgresql installed, but no initdb/pg_ctl under /usr/lib/postgresql/*/bin" >&2; exit 1; }
fi
echo "$bin"
