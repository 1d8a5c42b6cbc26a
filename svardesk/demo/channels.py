"""The demo's channels: every channel kind that is installed gets one, so a trial user can try
each — a team address on the built-in SMTP receiver, a chat allowed on the demo's own origin
(embedded in /demo/website/), a web form — and demo tickets come only from channels that
exist.

Channels are connected through each channel app's own command (`connect_email`,
`connect_chat`, `connect_form`), as a person would from a script; a kind whose app (and so its
command) is not installed is left out. Running the loader again reuses what it connected.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command, get_commands, load_command_class

from svardesk.channels.email.models import EmailChannel
from svardesk.conversations.models import Channel, ChannelKind
from svardesk.conversations.registry import UnknownChannelError, get_adapter
from svardesk.conversations.services import disconnect_channel
from svardesk.core import origins as core_origins
from svardesk.demo.models import DemoSite
from svardesk.tickets.models import Source

DEMO_ADDRESS = "support@svardesk.example"
DEMO_ADDRESS_NAME = "Svardesk demo support"
DEMO_CHAT_NAME = "Demo shop chat"
DEMO_FORM_NAME = "Demo shop contact form"
# The demo's phone number and Facebook Page: fictional (a Stockholm number from the range
# set aside for drama, a page id no Page has); their secrets are made up per install.
DEMO_CALL_NUMBER = "+46855512345"
DEMO_PAGE_ID = "100000000000001"
DEMO_PAGE_NAME = "Demo shop on Facebook"
DEFAULT_ORIGIN = "http://127.0.0.1:8000"

# How often each source appears among demo tickets, for the sources whose channel exists
# (Manual — an agent typed it in — always exists). API tickets need an API client, so none.
SOURCE_WEIGHTS: dict[str, int] = {
    str(Source.EMAIL): 45,
    str(Source.CHAT): 20,
    str(Source.FORM): 15,
    str(Source.CALL): 8,
    str(Source.MESSENGER): 5,
    str(Source.MANUAL): 5,
}
ALWAYS = (str(Source.MANUAL),)

Progress = Callable[[str], None]


@dataclass
class DemoChannels:
    origin: str
    email: Channel | None = None
    chat: Channel | None = None
    chat_snippet: str = ""
    form: Channel | None = None
    form_url: str = ""
    calls: Channel | None = None
    calls_url: str = ""  # the voice webhook
    messenger: Channel | None = None
    messenger_url: str = ""  # the webhook
    skipped: list[str] = field(default_factory=list)  # kinds whose app is not installed


def default_origin() -> str:
    """Where the demo is served: settings.BASE_URL (SVARDESK_BASE_URL), else run.sh's default."""
    return normalise_origin(str(getattr(settings, "BASE_URL", "") or DEFAULT_ORIGIN))


def normalise_origin(url: str) -> str:
    """scheme://host[:port] of `url`; ValueError when it is not an http(s) URL."""
    return core_origins.normalise_origin(url, page_url_allowed=True)


def chat_origins(origin: str) -> list[str]:
    """The demo chat's allowed websites: the origin, and its twin when it is on loopback (a
    trial user may type localhost or 127.0.0.1)."""
    origins = [origin]
    parts = urlsplit(origin)
    twin = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(parts.hostname or "")
    if twin:
        port = f":{parts.port}" if parts.port else ""
        origins.append(f"{parts.scheme}://{twin}{port}")
    return origins


def _has_command(name: str) -> bool:
    return name in get_commands()


def _command_options(name: str) -> set[str]:
    app = get_commands()[name]
    parser = load_command_class(app, name).create_parser("svardesk", name)
    return {option for action in parser._actions for option in action.option_strings}


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return _last_line(out.getvalue())


def _ensure_email(site: DemoSite | None) -> Channel | None:
    if site is not None and site.email_channel is not None:
        return site.email_channel
    existing = EmailChannel.objects.filter(address__iexact=DEMO_ADDRESS).first()
    if existing is None:
        _run("connect_email", DEMO_ADDRESS, "--name", DEMO_ADDRESS_NAME)
        existing = EmailChannel.objects.get(address__iexact=DEMO_ADDRESS)
    return Channel.objects.get(pk=existing.channel_id)


def _newest(kind: str, name: str) -> Channel | None:
    return Channel.objects.filter(kind=kind, name=name).order_by("-pk").first()


def _ensure_chat(site: DemoSite | None, origin: str) -> tuple[Channel | None, str]:
    chat = site.chat_channel if site is not None else None
    reusable = chat is not None and chat.is_active and site is not None and site.chat_snippet
    if reusable and site is not None and site.origin == origin:
        return chat, site.chat_snippet
    if reusable and chat is not None:
        # The demo moved (another host or port): its chat moves with it.
        disconnect_channel(chat, actor=None)
    args = [DEMO_CHAT_NAME]
    for allowed in chat_origins(origin):
        args += ["--website", allowed]
    options = _command_options("connect_chat")
    if "--transcript-from" in options:
        # Transcripts go out from the demo address, and so land in Outgoing mail.
        args += ["--transcript-from", DEMO_ADDRESS]
    snippet = _run("connect_chat", *args)
    return _newest(str(ChannelKind.CHAT), DEMO_CHAT_NAME), snippet


def _ensure_form(site: DemoSite | None) -> tuple[Channel | None, str]:
    form = site.form_channel if site is not None else None
    if site is not None and form is not None and form.is_active and site.form_url:
        # The form's address follows settings.BASE_URL (the demo may have moved).
        base = str(getattr(settings, "BASE_URL", "") or DEFAULT_ORIGIN).rstrip("/")
        return form, base + urlsplit(site.form_url).path
    url = _run("connect_form", DEMO_FORM_NAME)
    return _newest(str(ChannelKind.FORM), DEMO_FORM_NAME), url


def _ensure_calls() -> tuple[Channel | None, str]:
    from svardesk.channels.calls.models import CallChannel
    from svardesk.channels.calls.services import webhook_urls

    existing = CallChannel.objects.select_related("channel").filter(
        phone_number=DEMO_CALL_NUMBER, channel__is_active=True
    )
    call_channel = existing.first()
    if call_channel is None:
        sid = "AC" + secrets.token_hex(16)
        _run(
            "connect_calls",
            DEMO_CALL_NUMBER,
            "--account-sid",
            sid,
            "--auth-token",
            secrets.token_hex(16),
        )
        call_channel = existing.get()
    return call_channel.channel, webhook_urls(call_channel)["voice"]


def _ensure_messenger() -> tuple[Channel | None, str]:
    from svardesk.channels.messenger.models import MessengerPage
    from svardesk.channels.messenger.views import webhook_url

    existing = MessengerPage.objects.select_related("channel").filter(
        page_id=DEMO_PAGE_ID, channel__is_active=True
    )
    page = existing.first()
    if page is None:
        _run(
            "connect_messenger",
            "--page-id",
            DEMO_PAGE_ID,
            "--page-token",
            "EAA" + secrets.token_hex(24),  # hex: never read as an option ("-…")
            "--app-secret",
            secrets.token_hex(16),
            "--verify-token",
            secrets.token_hex(16),
            "--name",
            DEMO_PAGE_NAME,
        )
        page = existing.get()
    return page.channel, webhook_url(page)


def connect_demo_channels(*, origin: str, progress: Progress) -> DemoChannels:
    """Connect (or reuse) one channel of every installed kind that has a connect command, and
    record them in the DemoSite row."""
    origin = normalise_origin(origin)
    site = DemoSite.objects.select_related("email_channel", "chat_channel", "form_channel").first()
    result = DemoChannels(origin=origin)
    result.email = _ensure_email(site)
    if _has_command("connect_chat"):
        result.chat, result.chat_snippet = _ensure_chat(site, origin)
    else:
        result.skipped.append(str(ChannelKind.CHAT))
    if _has_command("connect_form"):
        result.form, result.form_url = _ensure_form(site)
    else:
        result.skipped.append(str(ChannelKind.FORM))
    if _has_command("connect_calls"):
        result.calls, result.calls_url = _ensure_calls()
    else:
        result.skipped.append(str(ChannelKind.CALL))
    if _has_command("connect_messenger"):
        result.messenger, result.messenger_url = _ensure_messenger()
    else:
        result.skipped.append(str(ChannelKind.MESSENGER))
    DemoSite.objects.update_or_create(
        pk=1,
        defaults={
            "origin": origin,
            "email_channel": result.email,
            "chat_channel": result.chat,
            "chat_snippet": result.chat_snippet,
            "form_channel": result.form,
            "form_url": result.form_url,
        },
    )
    progress(
        "channels: "
        + ", ".join(
            f"{channel.get_kind_display()} #{channel.pk}"
            for channel in (result.email, result.chat, result.form, result.calls, result.messenger)
            if channel is not None
        )
    )
    return result


def demo_sources() -> tuple[str, ...]:
    """The ticket sources demo tickets may have: Manual, and the source of every kind with an
    active channel (its adapter's `ticket_source`)."""
    sources = set(ALWAYS)
    for kind in Channel.objects.filter(is_active=True).values_list("kind", flat=True).distinct():
        try:
            source = get_adapter(kind).ticket_source
        except UnknownChannelError:
            continue
        if source in SOURCE_WEIGHTS:
            sources.add(source)
    return tuple(source for source in SOURCE_WEIGHTS if source in sources)


# --- The demo website's chat snippet -------------------------------------------------------------


_DATA_ATTRIBUTE = re.compile(r"data-[a-z0-9-]+")


class _ScriptTag(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and self.attrs is None:
            self.attrs = {name: value or "" for name, value in attrs}


def snippet_attributes(snippet: str) -> dict[str, str]:
    """The `<script>` tag's attributes of a chat snippet (src, data-*, async), so the demo
    website renders its own escaped tag instead of trusting stored HTML; {} when it has none
    or its src is not an http(s) URL."""
    parser = _ScriptTag()
    parser.feed(snippet)
    attrs = parser.attrs or {}
    if urlsplit(attrs.get("src", "")).scheme not in ("http", "https"):
        return {}
    return {
        name: value
        for name, value in attrs.items()
        if name in ("src", "async", "defer") or _DATA_ATTRIBUTE.fullmatch(name)
    }
