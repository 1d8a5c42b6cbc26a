"""Formats for the language code en_US (see svardesk.core.formats)."""

from svardesk.core.formats.styles import US

globals().update(US)
