#!/usr/bin/env bash
# Creates the Python 3.11+ venvs the tests use, each idempotent (reinstalls only when its requirements changed):
# - .venv: scripts/setup/requirements.txt and every pipelines/*/job/requirements.txt;
# - .venv-checkov: scripts/setup/requirements-checkov.txt alone (checkov's exact pins conflict with .venv's).
set -euo pipefail
cd "$(dirname "$0")/../.."

python=${PYTHON:-python3}

# venv <dir> <requirements file>...
venv() {
  local dir=$1; shift
  local stamp
  stamp=$(cat "$@" | sha256sum | cut -d' ' -f1)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements-sha256" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  echo "Setting up $dir from $*..."
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  local args=() f
  for f in "$@"; do args+=(-r "$f"); done
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}"
  echo "$stamp" > "$dir/.requirements-sha256"
}

files=(scripts/setup/requirements.txt)
for f in pipelines/*/job/requirements.txt; do [ -f "$f" ] && files+=("$f"); done
venv .venv "${files[@]}"
venv .venv-checkov scripts/setup/requirements-checkov.txt
