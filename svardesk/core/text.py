"""Text rules shared by every domain."""

import re

# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators, with the
# blanks around them.
_CONTROL_RUN = re.compile(r"[ \t]*[\x00-\x1f\x7f-\x9f\u2028\u2029]+[ \t]*")


def single_line(value: str) -> str:
    """`value` on one line: every run of control characters (with the blanks around it)
    becomes one space. For what ends up in a mail header (a subject, a ticket name) or any
    one-line name (PostgreSQL refuses NUL in text)."""
    return _CONTROL_RUN.sub(" ", value).strip()
