"""Formats for the language code sv_SE (see svardesk.core.formats)."""

from svardesk.core.formats.styles import SWEDEN

globals().update(SWEDEN)
