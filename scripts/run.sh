#!/usr/bin/env bash
# Command (a): install everything and run Svardesk with demo data on the embedded default
# (SQLite in ./data, tasks in-process, no other server).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

export SVARDESK_DATA_DIR="${SVARDESK_DATA_DIR:-$ROOT/data}"
SVARDESK=.venv/bin/svardesk
$SVARDESK migrate --verbosity 0
if [ ! -f "$SVARDESK_DATA_DIR/.demo-loaded" ]; then
  echo "==> Loading demo data"
  $SVARDESK demo --tickets "${SVARDESK_DEMO_TICKETS:-5000}" --seed 1 --no-logins
  # A connected team address, so replies can be tried at once: with no SVARDESK_SMTP_URL they
  # are written to this console (the ticket says so), and mail sent to the built-in SMTP
  # receiver (127.0.0.1:2525) becomes tickets.
  $SVARDESK connect_email support@svardesk.example --name "Svardesk demo support" >/dev/null
  touch "$SVARDESK_DATA_DIR/.demo-loaded"
fi
HOST="${SVARDESK_HOST:-127.0.0.1}"
PORT="${SVARDESK_PORT:-8000}"
cat <<MSG

  Svardesk: http://$HOST:$PORT/
  Demo logins
    super admin  admin@svardesk.example       / svardesk-admin
    agent        agent@svardesk.example       / svardesk-agent
    team agent   restricted@svardesk.example  / svardesk-agent  (sees the Billing team's tickets)
    no seat      viewer@svardesk.example      / svardesk-viewer (gets the "no access" page)

  Team address support@svardesk.example: replies are written to this console (set
  SVARDESK_SMTP_URL to send them); mail to 127.0.0.1:2525 becomes tickets.

MSG
exec $SVARDESK serve --host "$HOST" --port "$PORT" --no-migrate
