#!/usr/bin/env bash
# Shared set-up: Python virtualenv with pinned dependencies, and the front-end libraries.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again (it only adds what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
EXTRAS="${SVARDESK_EXTRAS:-}"

if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
# One install marker per dependency set: ".venv/.installed-HASH" for the product, with
# "-test" when the test extras are in too. The test install includes the product's, so
# scripts/run.sh after scripts/test.sh (or the other way round) installs nothing again.
hash="$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -c1-16)"
stamp=".venv/.installed-$hash${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] && { [ -n "$EXTRAS" ] || [ ! -f ".venv/.installed-$hash-test" ]; }; then
  echo "==> Installing Python dependencies (pinned in requirements/constraints.txt)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c requirements/constraints.txt -e ".${EXTRAS:+[$EXTRAS]}"
  # Markers of an older dependency set go; a marker of this set with other extras stays.
  find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-$hash*" -delete
  touch "$stamp"
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> Installing front-end libraries (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
