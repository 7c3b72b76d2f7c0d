#!/usr/bin/env bash
# Everything `npm test` needs beyond `npm ci` (runs as npm's pretest; each step does nothing when already done):
# Debian packages (kcat), a PostgreSQL server for the CDC test, and the Python venvs (cfn-lint, PySpark, Delta; checkov).
# Maven fetches the Flink job's dependencies from Maven Central itself.
set -euo pipefail
cd "$(dirname "$0")"
bash system-packages.sh
bash postgres.sh >/dev/null
bash python-venv.sh
