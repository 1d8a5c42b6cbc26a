"""People's names as they arrive in mail headers and forms."""

from __future__ import annotations


def split_display_name(display_name: str) -> tuple[str, str]:
    """ "Anna Svensson" → ("Anna", "Svensson"); "Svensson, Anna" → ("Anna", "Svensson");
    an address or nothing → ("", "")."""
    name = " ".join((display_name or "").replace('"', " ").split()).strip(" '")
    if not name or "@" in name:
        return "", ""
    if "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
        return first[:150], last[:150]
    parts = name.split(" ")
    if len(parts) == 1:
        return parts[0][:150], ""
    return " ".join(parts[:-1])[:150], parts[-1][:150]
