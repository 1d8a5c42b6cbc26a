"""Message bodies from outside: sanitising HTML, deriving text from HTML, and finding the
quoted history of a reply so the UI can collapse it (it is kept, never cut).

Stored `Message.body_html` is always sanitised; when a reply quotes earlier mail, the quoted
part is wrapped in `<div class="sd-quoted">…</div>` at the end. Sanitising strips every
`class` attribute from the sender's HTML, so that wrapper can only come from us and
`split_quoted` finds it with a plain string search.
"""

from __future__ import annotations

import re
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import unquote

import nh3

QUOTED_OPEN = '<div class="sd-quoted">'
QUOTED_CLOSE = "</div>"

# --- Sanitising -----------------------------------------------------------------------------

_TAGS = set(nh3.ALLOWED_TAGS) | {"font"}
_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES["*"] = {"style", "title", "dir", "lang", "align"}
_ATTRIBUTES["font"] = {"color", "size", "face"}
_ATTRIBUTES.setdefault("td", set()).update({"width", "valign", "bgcolor"})
_ATTRIBUTES.setdefault("th", set()).update({"width", "valign", "bgcolor"})
_ATTRIBUTES.setdefault("table", set()).update({"width", "cellpadding", "cellspacing", "border"})
# Formatting only: nothing that positions, overlays or loads a URL (no background-image).
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font-weight",
    "font-style",
    "font-size",
    "font-family",
    "text-decoration",
    "text-align",
    "text-indent",
    "vertical-align",
    "line-height",
    "white-space",
    "list-style-type",
    "margin",
    "margin-top",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "padding",
    "padding-top",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "border",
    "border-top",
    "border-bottom",
    "border-left",
    "border-right",
    "border-collapse",
    "width",
    "max-width",
}


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # Images load only from our own stored attachments (cid:, rewritten later) or https.
    if tag == "img" and attribute == "src":
        lowered = value.strip().lower()
        return value if lowered.startswith(("cid:", "https:")) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes={"http", "https", "mailto", "tel", "cid"},
    link_rel="noopener noreferrer nofollow",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    filter_style_properties=_STYLE_PROPERTIES,
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Safe HTML for display: formatting kept; scripts, styles, event handlers, forms,
    classes and non-https images removed; links open with rel="noopener"."""
    if not html or not html.strip():
        return ""
    return _CLEANER.clean(html).strip()


def sanitize_message_html(html: str) -> str:
    """Sanitise a message body and mark its quoted history (see the module docstring)."""
    if not html or not html.strip():
        return ""
    visible, quoted = _split_raw_html(html)
    clean_visible = sanitize_html(visible)
    clean_quoted = sanitize_html(quoted) if quoted else ""
    if not _has_content(clean_quoted):
        return clean_visible
    return f"{clean_visible}{QUOTED_OPEN}{clean_quoted}{QUOTED_CLOSE}"


_CID_SRC = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)


def normalise_content_id(value: str) -> str:
    return unquote(value).strip().strip("<>").strip().lower()


def rewrite_cid_sources(html: str, urls: dict[str, str]) -> str:
    """Point `<img src="cid:…">` at the stored attachment; drop references to missing parts.
    `urls` maps normalised content ids to URLs. Works on sanitised HTML (quoted attributes)."""

    def replace(match: re.Match[str]) -> str:
        url = urls.get(normalise_content_id(match.group(1)))
        return f'src="{escape(url, quote=True)}"' if url else 'data-missing-src=""'

    return _CID_SRC.sub(replace, html).replace(' data-missing-src=""', "")


# An <img> tag of sanitised HTML: nh3 writes every attribute value in double quotes (a `"`
# inside is `&quot;`), but may leave a `>` unescaped inside one.
_IMG_TAG = re.compile(r'<img\b(?:[^>"]|"[^"]*")*>', re.IGNORECASE)
_SRC_ATTRIBUTE = re.compile(r'\ssrc="([^"]*)"', re.IGNORECASE)
# Our own paths only; `//host` and `/\host` name another host.
_OWN_PATH = re.compile(r"/(?![/\\])")
BLOCKED_IMAGE_ATTRIBUTE = "data-blocked-image"


def block_remote_images(html: str) -> tuple[str, int]:
    """(html, how many images were blocked): every `<img>` whose source is not one of our own
    paths (inline attachments were pointed at one) loses its `src`, so opening a message
    tells no tracking pixel when or from where. Works on sanitised HTML."""
    blocked = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal blocked
        tag = match.group(0)
        source = _SRC_ATTRIBUTE.search(tag)
        # A browser drops tabs and newlines from a URL before it reads it.
        address = re.sub(r"[\t\n\r]", "", unescape(source.group(1))).strip() if source else ""
        if source is None or _OWN_PATH.match(address):
            return tag
        blocked += 1
        without_src = tag[: source.start()] + tag[source.end() :]
        end = -2 if without_src.endswith("/>") else -1
        return f'{without_src[:end].rstrip()} {BLOCKED_IMAGE_ATTRIBUTE}=""{without_src[end:]}'

    if "<img" not in html.lower():
        return html, 0
    return _IMG_TAG.sub(replace, html), blocked


def _has_content(html: str) -> bool:
    return bool(re.sub(r"<[^>]*>|\s|&nbsp;", "", html)) or "<img" in html


# --- HTML to text ---------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "tr",
    "ul",
    "ol",
    "pre",
    "hr",
    "blockquote",
    "address",
    "center",
    "dl",
    "dt",
    "dd",
}
_SKIP_TAGS = {"script", "style", "head", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    """Blocks become blank lines, list items "- " or "1. " (indented when nested), quotes
    "> ", and a link keeps its web address in brackets when its text is not the address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.pre_depth = 0
        self.lists: list[list[int]] = []  # [ordered (0/1), items so far] per open list
        self.links: list[tuple[str | None, list[str]]] = []  # (href, text) per open <a>
        self.indent = ""  # a nested list item's indentation, kept through the strip

    def _flush(self) -> None:
        text = "".join(self.current)
        if not self.pre_depth:
            text = re.sub(r"[ \t\r\n\f\u00a0]+", " ", text).strip()
        if text and self.indent:
            text = self.indent + text
        self.indent = ""
        prefix = "> " * self.quote_depth
        self.lines.append(f"{prefix}{text}".rstrip() if prefix else text)
        self.current = []

    def _break(self) -> None:
        if self.current:
            self._flush()
        elif self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
            return
        if tag == "br":
            self._flush()
        elif tag == "li":
            if self.current:
                self._flush()
            marker = "- "
            if self.lists:
                self.lists[-1][1] += 1
                if self.lists[-1][0]:
                    marker = f"{self.lists[-1][1]}. "
            self.indent = "  " * max(len(self.lists) - 1, 0)
            self.current.append(marker)
        elif tag in ("td", "th"):
            self.current.append(" ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), []))
        elif tag in _BLOCK_TAGS:
            if tag in ("ul", "ol") and self.lists:
                if self.current:  # a list nested in an item: the item's text stays above it
                    self._flush()
            else:
                self._break()
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre_depth += 1
            elif tag in ("ul", "ol"):
                self.lists.append([1 if tag == "ol" else 0, 0])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "li":
            if self.current:
                self._flush()
        elif tag == "a" and self.links:
            href, text = self.links.pop()
            label = "".join(text).strip()
            if href and href.startswith(("http://", "https://")) and href != label:
                self.current.append(f" ({href})")
        elif tag in _BLOCK_TAGS:
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
                if self.lists:  # the end of a nested list: the outer list goes on
                    if self.current:
                        self._flush()
                    return
            self._break()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.current.append(data)
            for _href, text in self.links:
                text.append(data)

    def text(self) -> str:
        if self.current:
            self._flush()
        out = "\n".join(self.lines)
        return re.sub(r"\n{3,}", "\n\n", out).strip()


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: the one HTML → text rendering, for HTML-only
    mail, previews and search, an agent's reply (its plain part, a chat's text) and
    quoted history."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


# --- Quoted history -------------------------------------------------------------------------

_ATTRIBUTION_WORDS = (
    r"wrote|skrev|schrieb|a écrit|escribió|schreef|ha scritto|escreveu|kirjoitti|napisał"
)
# "On <date>, <name> wrote:" and "<date> skrev <name>:" (the name may follow the verb).
_ATTRIBUTION = re.compile(
    r"^\s*(?:>\s*)*(?:(?:On|Den|Am|Le|El|Op|Il|Em|Dne|W dniu)\b|.{0,60}?\d{4}).{0,400}?"
    rf"\b(?:{_ATTRIBUTION_WORDS})\b.{{0,250}}?:\s*$",
    re.IGNORECASE,
)


def _is_attribution_text(text: str) -> bool:
    # A date or time always appears in a client's attribution; "Den här gången skrev jag:"
    # (prose) has none.
    return len(text) <= 600 and bool(re.search(r"\d", text)) and bool(_ATTRIBUTION.match(text))


_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprungligt meddelande|Ursprüngliche Nachricht|"
    r"Message d'origine|Mensaje original|Forwarded message|Vidarebefordrat meddelande)\s*-{2,}",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|Från|Von|De|Van|Da)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\*?(?:Sent|Skickat|Gesendet|Envoyé|Enviado|Date|Datum|Verzonden|Inviato)\s*:\*?\s",
    re.IGNORECASE,
)


def split_quoted_text(text: str) -> tuple[str, str]:
    """(visible, quoted) of a plain-text body. The quoted part starts at an attribution line
    ("On … wrote:", "Den … skrev:"), an Outlook header block or "-----Original Message-----",
    or a trailing run of ">" lines; it is returned unchanged, never dropped."""
    if not text:
        return "", ""
    lines = text.split("\n")
    start = _quote_start_line(lines)
    if start is None:
        return text, ""
    visible = "\n".join(lines[:start]).rstrip()
    quoted = "\n".join(lines[start:]).strip("\n")
    return visible, quoted


def _quote_start_line(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _ORIGINAL_MESSAGE.match(line):
            return i
        if _is_attribution(lines, i):
            return i
        if _UNDERSCORES.match(line) and any(_HEADER_FROM.match(n) for n in lines[i + 1 : i + 3]):
            return i
        if _HEADER_FROM.match(line) and any(_HEADER_SENT.match(n) for n in lines[i + 1 : i + 4]):
            return i
    # A trailing run of quoted lines (blank lines may sit between them).
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    if start < end and start > 0:
        return start
    return None


def _is_attribution(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _is_attribution_text(line):
        return True
    # Gmail wraps a long attribution over two lines.
    if i + 1 < len(lines) and re.match(r"^\s*(?:On|Den|Am|Le|El|Op|Il)\s", line, re.IGNORECASE):
        return _is_attribution_text(f"{line} {lines[i + 1]}")
    return False


# Markers mail clients put where quoted history begins.
_QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote")
_QUOTE_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")
_OUTLOOK_BORDER = re.compile(r"border-top:\s*solid\s+#(?:e1e1e1|b5c4df)", re.IGNORECASE)


class _QuoteFinder(HTMLParser):
    """Finds the offset of the first tag that starts quoted history in raw HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: tuple[int, int] | None = None
        self.last_block: tuple[int, int] | None = None
        self.last_block_text: list[str] = []
        self.last_hr: tuple[int, int] | None = None
        self.text_since_hr = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found:
            return
        pos = self.getpos()
        values = {name.lower(): (value or "") for name, value in attrs}
        classes = values.get("class", "").lower().split()
        element_id = values.get("id", "").lower()
        if any(c in classes for c in _QUOTE_CLASSES) or element_id in _QUOTE_IDS:
            if element_id == "divrplyfwdmsg" and self.last_hr and not self.text_since_hr:
                pos = self.last_hr
            self.found = pos
            return
        if tag == "blockquote" and values.get("type", "").lower() == "cite":
            # Apple Mail puts "On …, … wrote:" in the block just before the blockquote.
            text = " ".join("".join(self.last_block_text).split())
            if self.last_block and _is_attribution_text(text):
                pos = self.last_block
            self.found = pos
            return
        if tag == "div" and _OUTLOOK_BORDER.search(values.get("style", "")):
            self.found = pos
            return
        if tag == "hr":
            self.last_hr = pos
            self.text_since_hr = False
        if tag in ("div", "p"):
            self.last_block = pos
            self.last_block_text = []

    def handle_data(self, data: str) -> None:
        if self.found:
            return
        if data.strip():
            self.text_since_hr = True
            self.last_block_text.append(data)
            if _ORIGINAL_MESSAGE.match(data) and self.last_block:
                self.found = self.last_block


def _split_raw_html(html: str) -> tuple[str, str]:
    finder = _QuoteFinder()
    try:
        finder.feed(html)
        finder.close()
    except Exception:  # a quirk of odd HTML must never lose the body
        return html, ""
    if finder.found is None:
        return html, ""
    line, column = finder.found
    offset = _offset(html, line, column)
    if offset <= 0:
        return "", html
    return html[:offset], html[offset:]


def _offset(text: str, line: int, column: int) -> int:
    position = 0
    for _ in range(line - 1):
        position = text.index("\n", position) + 1
    return position + column


def split_quoted_html(html: str) -> tuple[str, str]:
    """(visible, quoted) of a stored (sanitised, marked) HTML body; for unmarked HTML the
    client markers are looked for. Neither part is sanitised here."""
    if not html:
        return "", ""
    index = html.find(QUOTED_OPEN)
    if index >= 0:
        quoted = html[index + len(QUOTED_OPEN) :]
        if quoted.endswith(QUOTED_CLOSE):
            quoted = quoted[: -len(QUOTED_CLOSE)]
        return html[:index], quoted
    return _split_raw_html(html)


_LOOKS_LIKE_HTML = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*)(?:\s[^>]*)?/?>")


def split_quoted(text_or_html: str, *, html: bool | None = None) -> tuple[str, str]:
    """(visible, quoted) of a message body, HTML or plain text (guessed unless `html` is
    given). For the UI: show `visible`, put `quoted` behind a "…" toggle."""
    if html is None:
        html = QUOTED_OPEN in text_or_html or bool(_LOOKS_LIKE_HTML.search(text_or_html or ""))
    return split_quoted_html(text_or_html) if html else split_quoted_text(text_or_html)
