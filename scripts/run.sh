#!/usr/bin/env bash
# Command (a): install everything and run Svardesk with demo data on the embedded default
# (SQLite in ./data, tasks in-process, no other server).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

export SVARDESK_DATA_DIR="${SVARDESK_DATA_DIR:-$ROOT/data}"
SVARDESK=.venv/bin/svardesk
HOST="${SVARDESK_HOST:-127.0.0.1}"
PORT="${SVARDESK_PORT:-8000}"
SMTP_PORT="${SVARDESK_SMTP_PORT:-2525}"
case "$HOST" in 0.0.0.0 | :: | "[::]") URL_HOST=127.0.0.1 ;; *) URL_HOST="$HOST" ;; esac
# Where a browser reaches this Svardesk: the demo chat is allowed there, and commands print
# addresses (the demo form's) from it.
export SVARDESK_BASE_URL="${SVARDESK_BASE_URL:-http://$URL_HOST:$PORT}"
BASE="${SVARDESK_BASE_URL%/}"
MARKER="$SVARDESK_DATA_DIR/.demo-loaded"

$SVARDESK migrate --verbosity 0
load_demo() {
  # The demo connects a channel of every kind that is installed: the team address
  # support@svardesk.example on the built-in SMTP receiver, a chat allowed on this origin
  # (embedded in /demo/website/) and a contact form. The marker keeps where they are.
  local summary
  summary="$($SVARDESK demo --seed 1 --no-logins --origin "$BASE" "$@")"
  printf '%s\n' "$summary"
  { echo "BASE=$BASE"
    printf '%s\n' "$summary" | sed -n 's/^Form: /FORM_URL=/p; s/^Chat: on .*/CHAT=1/p; s/^Calls: .*/CALLS=1/p; s/^Messenger: .*/MESSENGER=1/p'
  } > "$MARKER"
}
if [ ! -f "$MARKER" ]; then
  echo "==> Loading demo data"
  load_demo --tickets "${SVARDESK_DEMO_TICKETS:-5000}"
elif [ "$(sed -n 's/^BASE=//p' "$MARKER" | head -n 1)" != "$BASE" ] \
  || ! grep -q '^CALLS=1' "$MARKER" || ! grep -q '^MESSENGER=1' "$MARKER"; then
  # Served somewhere else than last time: the demo chat and form follow; a data folder from
  # before calls and Messenger gets them (no new tickets either way).
  echo "==> Connecting the demo channels at $BASE"
  load_demo --tickets 0 --contacts 0 --agents 0 >/dev/null
fi
# Replies on the demo's Messenger page go to the demo's stand-in for Facebook's Graph API
# (docs/messenger.md), unless a real Graph URL is set.
export SVARDESK_GRAPH_API_URL="${SVARDESK_GRAPH_API_URL:-$BASE/demo/graph}"
# A private-app token for the API (kept in the data folder, readable by this user only), so
# the HubSpot-compatible API can be tried at once.
TOKEN_FILE="$SVARDESK_DATA_DIR/demo-api-token"
if [ ! -s "$TOKEN_FILE" ]; then
  (umask 077; $SVARDESK create_token --user admin@svardesk.example --name "Demo script" \
    --scopes tickets,crm.objects.contacts.read,crm.objects.contacts.write,crm.objects.companies.read,crm.objects.companies.write,crm.objects.deals.read,crm.objects.deals.write,crm.objects.owners.read,conversations.read,conversations.write \
    | tail -n 1 > "$TOKEN_FILE")
fi
API_TOKEN="$(cat "$TOKEN_FILE")"
FORM_URL="$(sed -n 's/^FORM_URL=//p' "$MARKER" | head -n 1)"
HAS_CHAT="$(sed -n 's/^CHAT=//p' "$MARKER" | head -n 1)"

cat <<MSG

  Svardesk: $BASE/
  Demo logins
    super admin  admin@svardesk.example       / svardesk-admin
    agent        agent@svardesk.example       / svardesk-agent
    team agent   restricted@svardesk.example  / svardesk-agent  (sees the Billing team's tickets)
    no seat      viewer@svardesk.example      / svardesk-viewer (gets the "no access" page)

  Try each channel, as a customer would:
    Email  mail to support@svardesk.example on the built-in SMTP receiver becomes a ticket:
             printf 'From: Asa Berg <asa@example.com>\r\nTo: support@svardesk.example\r\nSubject: My bike squeaks\r\n\r\nHello! The front brake squeaks.\r\n' \\
               | curl -sS smtp://$URL_HOST:$SMTP_PORT --mail-from asa@example.com --mail-rcpt support@svardesk.example -T -
MSG
if [ -n "$HAS_CHAT" ]; then
  echo "    Chat   open $BASE/demo/website/ and press \"Chat with us\"; answer in the workspace"
fi
if [ -n "$FORM_URL" ]; then
  echo "    Form   open $FORM_URL and send it; the ticket appears in the workspace"
fi
INBOUND="SVARDESK_DATA_DIR=$SVARDESK_DATA_DIR SVARDESK_BASE_URL=$BASE $ROOT/.venv/bin/svardesk demo_inbound"
if grep -q '^CALLS=1' "$MARKER"; then
  echo "    Call   a voicemail to the demo number, sent as the provider would (signed webhooks):"
  echo "             $INBOUND call --from +46701234567"
fi
if grep -q '^MESSENGER=1' "$MARKER"; then
  echo "    Messenger  a message to the demo Facebook Page; replies go to a Graph stand-in:"
  echo "             $INBOUND messenger \"Hi! Is my order on its way?\""
fi
echo "    Inboxes  the Sales inbox (sidebar) holds conversations outside the help desk: move one"
echo "             (… → Move to another inbox) or all (Settings → Inboxes → Move to help desk)"
cat <<MSG

  HubSpot-compatible API (docs/api.md), as the demo super admin — the official SDK works too:
    curl -sS -H "Authorization: Bearer $API_TOKEN" "$BASE/crm/v3/objects/tickets?limit=3"
    python: HubSpot(access_token="$API_TOKEN", host="$BASE").crm.tickets.get_all()
  More tokens: Settings → Integrations: private apps ($BASE/settings/integrations/private-apps/)
MSG
if [ -z "${SVARDESK_SMTP_URL:-}" ]; then
  cat <<MSG

  Sent mail: no mail server is set (SVARDESK_SMTP_URL), so nothing leaves this machine.
  Replies, chat transcripts and form confirmations are kept in Settings → Outgoing mail:
    $BASE/settings/outgoing-mail/

MSG
else
  printf '\n  Sent mail goes out through SVARDESK_SMTP_URL.\n\n'
fi
exec $SVARDESK serve --host "$HOST" --port "$PORT" --no-migrate
