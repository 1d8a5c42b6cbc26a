#!/usr/bin/env bash
# Command (b): install what the tests need and run the whole suite, on SQLite and on PostgreSQL.
#   SVARDESK_TEST_DATABASES="sqlite postgres" (default both)
#   SVARDESK_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/svardesk (default)
#   SVARDESK_TEST_WORKERS=3 (pytest-xdist processes; many tests wait on real servers, browsers and
#   subprocesses, so three processes keep a 2-core machine busier than two: a fresh-clone CI run
#   took 27.5 min against 31 with two; 0 runs in-process)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Debian packages the suite drives for real: Chromium (browser tests), gettext (catalogues).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

SVARDESK_EXTRAS=test source scripts/setup.sh

export SVARDESK_DATA_DIR="${SVARDESK_TEST_DATA_DIR:-$ROOT/data/test}"
mkdir -p "$SVARDESK_DATA_DIR"
unset DATABASE_URL REDIS_URL SVARDESK_SMTP_URL

echo "==> Lint, format, types, import contracts, migrations, catalogues"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy svardesk
.venv/bin/lint-imports --no-cache
.venv/bin/svardesk makemigrations --check --dry-run --verbosity 0
.venv/bin/svardesk check --fail-level WARNING
.venv/bin/python scripts/check_catalogues.py

status=0
for db in ${SVARDESK_TEST_DATABASES:-sqlite postgres}; do
  case "$db" in
    sqlite) url="" ;;
    postgres) url="${SVARDESK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/svardesk}" ;;
    *) echo "unknown database: $db"; exit 2 ;;
  esac
  echo "==> Test suite on $db"
  DATABASE_URL="$url" .venv/bin/pytest -p no:cacheprovider -n "${SVARDESK_TEST_WORKERS:-3}" "$@" || status=$?
done
exit $status
