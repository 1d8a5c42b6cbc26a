"""How search sees text, phone numbers and queries — one definition, three implementations.

`fold` and `phone_digits` are defined here in Python; the PostgreSQL functions
`svardesk_fold` / `svardesk_phone` (migration 0001) and the SQLite functions of the same names
(registered on every connection, used by the FTS5 triggers) compute exactly the same, which
is what makes both databases give the same results (tests/test_parity.py checks it).

- fold: the accented Latin letters in FOLD_FROM become the letters in FOLD_TO, æ/œ/ß/þ/ĳ
  become two letters, everything is lowercased, and every run of characters outside a-z and
  0-9 becomes one space. "Åsa Ström-O'Brien" -> "asa strom o brien".
- phone_digits: the digits only; a number written internationally (+46…, 0046…) for
  Sweden becomes its national form with a leading 0: "+46 (0)70-123 45 67" -> "0701234567".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from svardesk.core.parsing import is_ascii_digits

FOLD_FROM = (
    "ÀÁÂÃÄÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģ"
    "ĤĥĨĩĪīĬĭĮįĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖ"
    "ǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳØøÐðĐđŁłĦħıİĿŀŦŧĸŊŋ"
    "ſKÅ"  # noqa: RUF001 - the long s and the Kelvin sign are meant
)
FOLD_TO = (
    "aaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggg"
    "hhiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouuaaiioouuuuuu"
    "uuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyyooddddllhhiillttknn"
    "ska"
)
# Letters that become two.
FOLD_PAIRS = (
    ("Æ", "ae"), ("æ", "ae"), ("Œ", "oe"), ("œ", "oe"), ("ß", "ss"), ("ẞ", "ss"),
    ("Þ", "th"), ("þ", "th"), ("Ĳ", "ij"), ("ĳ", "ij"),
)  # fmt: skip
assert len(FOLD_FROM) == len(FOLD_TO)  # noqa: S101 - a broken table must not import

_TABLE = str.maketrans(FOLD_FROM, FOLD_TO)
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_NOT_DIGIT = re.compile(r"[^0-9]+")
_PHONE_CHARS = re.compile(r"^[0-9+\-()./\s]+$")

# Query limits: beyond these a search is refused or cut, never slow.
MAX_QUERY_LENGTH = 200
MAX_TOKENS = 8
MIN_PHONE_DIGITS = 6
MIN_SUBSTRING = 3


def fold(text: str | None) -> str:
    if not text:
        return ""
    if not text.isascii():
        # Every letter the tables map is outside ASCII, but for K, which lower() maps alike.
        for source, target in FOLD_PAIRS:
            text = text.replace(source, target)
        text = text.translate(_TABLE)
    return _NOT_WORD.sub(" ", text.lower()).strip()


# PostgreSQL's to_tsvector skips a word this long or longer; its tsvector input refuses one.
MAX_WORD_LENGTH = 2047


def word_set(text: str | None) -> set[str]:
    """The distinct folded words of `text`."""
    return {word for word in fold(text).split() if len(word) < MAX_WORD_LENGTH}


def tsvector_words(words: set[str] | frozenset[str]) -> str:
    """`words` as PostgreSQL tsvector input: equal to svardesk_words() of the text they came
    from (strip(to_tsvector('simple', svardesk_fold(text)))). Folded words are [a-z0-9]
    only, so they need no quoting; PostgreSQL sorts them itself."""
    return " ".join(words)


def phone_digits(text: str | None) -> str:
    if not text:
        return ""
    digits = _NOT_DIGIT.sub("", text)
    international = text.lstrip(" ").startswith("+") or digits.startswith("00")
    if international:
        if digits.startswith("00"):
            digits = digits[2:]
        if digits.startswith("46"):
            digits = digits[2:]
            if not digits.startswith("0"):
                digits = "0" + digits
    return digits


def lower_email(text: str | None) -> str:
    return (text or "").lower()


@dataclass(frozen=True)
class ParsedQuery:
    """What a search box entry asks for. Every part is optional; a ticket matches when any
    part matches, and ranks by the best part it matched (see search.queries)."""

    text: str
    ticket_id: int | None
    email: str  # lowercased; exact match ranks high, a substring match counts too
    phone: str  # phone_digits() form; exact match ranks high, a substring match counts too
    tokens: tuple[str, ...]  # folded words, each a prefix of some word (1 letter: a word)

    @property
    def is_empty(self) -> bool:
        return not (self.ticket_id or self.email or self.phone or self.tokens)


def parse_query(text: str) -> ParsedQuery:
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    ticket_id = None
    bare = text[1:] if text.startswith("#") else text
    if is_ascii_digits(bare) and len(bare) <= 15:
        ticket_id = int(bare)
    if text.startswith("#") and ticket_id is not None:
        # "#1234" is an id and nothing else.
        return ParsedQuery(text, ticket_id, "", "", ())
    email = ""
    if not any(ch.isspace() for ch in text) and len(text) >= MIN_SUBSTRING:
        email = lower_email(text)
    phone = ""
    if _PHONE_CHARS.match(text):
        digits = phone_digits(text)
        if len(digits) >= MIN_PHONE_DIGITS:
            phone = digits
    tokens: tuple[str, ...] = ()
    if (not phone or is_ascii_digits(text)) and "@" not in text:
        # A formatted phone number's pieces ("+46", "70") are not words worth matching, and
        # an address ("anna@", "@acme.se") is searched for as an address, not as words.
        tokens = tuple(dict.fromkeys(fold(text).split()))[:MAX_TOKENS]
    return ParsedQuery(text, ticket_id, email, phone, tokens)
