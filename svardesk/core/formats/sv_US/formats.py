"""Formats for the language code sv_US (see svardesk.core.formats)."""

from svardesk.core.formats.styles import US_SWEDISH

globals().update(US_SWEDISH)
