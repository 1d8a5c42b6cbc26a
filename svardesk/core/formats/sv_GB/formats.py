"""Formats for the language code sv_GB (see svardesk.core.formats)."""

from svardesk.core.formats.styles import UK

globals().update(UK)
