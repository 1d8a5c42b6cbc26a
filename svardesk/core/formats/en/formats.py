"""Formats for the language code en (see svardesk.core.formats)."""

from svardesk.core.formats.styles import UK

globals().update(UK)
