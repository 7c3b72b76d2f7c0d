#!/usr/bin/env bash
# Installs the Debian packages the integration tests use (kcat, for librdkafka's mock Kafka cluster).
# Runs before `npm test` (npm's pretest); does nothing when they are already there.
set -euo pipefail

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need: ${missing[*]}. Install them with your package manager (no apt-get here)." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${missing[*]} (Debian packages the integration tests need)..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
