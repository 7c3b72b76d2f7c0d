#!/usr/bin/env bash
# Creates .venv (Python 3.11+) with the pinned tools the tests use: scripts/setup/requirements.txt and every
# pipelines/*/job/requirements.txt. Idempotent: reinstalls only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=${PYTHON:-python3}
files=(scripts/setup/requirements.txt)
for f in pipelines/*/job/requirements.txt; do [ -f "$f" ] && files+=("$f"); done
stamp=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)

if [ -x .venv/bin/python ] && [ "$(cat .venv/.requirements-sha256 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
echo "Setting up .venv from ${files[*]}..."
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
args=()
for f in "${files[@]}"; do args+=(-r "$f"); done
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${args[@]}"
echo "$stamp" > .venv/.requirements-sha256
