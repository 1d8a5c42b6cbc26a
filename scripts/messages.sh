#!/usr/bin/env bash
# Update the Swedish catalogue from the code (new strings arrive untranslated) and compile it.
set -euo pipefail
cd "$(dirname "$0")/../svardesk"
../.venv/bin/svardesk makemessages -l sv --no-obsolete --no-location \
  --ignore 'node_modules/*' --ignore '.venv/*' --ignore 'data/*'
msgfmt --check -o locale/sv/LC_MESSAGES/django.mo locale/sv/LC_MESSAGES/django.po
msgfmt --statistics -o /dev/null locale/sv/LC_MESSAGES/django.po
