"""Formats for the language code en_SE (see svardesk.core.formats)."""

from svardesk.core.formats.styles import SWEDEN

globals().update(SWEDEN)
