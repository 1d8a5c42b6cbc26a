"""What the widget says, in the visitor's language: its labels (sent with the config) and
the error messages of the protocol (docs/chat.md)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _


def widget_language(requested: object, default: str) -> str:
    """A language of ours: `requested` ("sv", "sv-SE"), else the channel's default."""
    codes = {code for code, _label in settings.LANGUAGES}
    if isinstance(requested, str):
        base = requested.strip().lower().replace("_", "-").split("-")[0]
        if base in codes:
            return base
    return default if default in codes else settings.LANGUAGE_CODE


def widget_strings(language: str) -> dict[str, str]:
    with translation.override(language):
        return {
            "launcher": _("Chat with us"),
            "title": _("Chat with us"),
            "close": _("Close the chat window"),
            "name": _("Name"),
            "email": _("Email"),
            "message": _("Message"),
            "send": _("Send"),
            "details_hint": _("Tell us who you are so we can get back to you."),
            "you": _("You"),
            "agent": _("Support"),
            "unavailable": _(
                "Nobody is available to chat right now. We'll reply by email, usually within "
                "a working day."
            ),
            "email_needed": _("Leave your email address so we can reply."),
            "by_email": _("We'll reply by email, usually within a working day."),
            "typing": _("%(name)s is typing…"),
            "closed": _("The chat has ended. Write again to start a new one."),
            "connecting": _("Connecting…"),
            "offline": _("Connection lost. Reconnecting…"),
            "sending": _("Sending…"),
            "log": _("Chat messages"),
        }


def error_message(
    code: str, language: str, *, retry_after: int | None = None, limit: int = 0
) -> str:
    with translation.override(language):
        if code == "rate_limited":
            return _(
                "You are sending messages too quickly. Your message is kept; try again in "
                "%(seconds)s seconds."
            ) % {"seconds": retry_after or 1}
        messages = {
            "bad_frame": _("The chat could not read that. Please try again."),
            "hello_required": _("The chat is still connecting. Please try again."),
            "invalid_token": _("Your earlier chat could not be found; a new chat starts."),
            "too_long": _(
                "Your message is longer than %(count)s characters. Please shorten it and send "
                "it again."
            )
            % {"count": limit},
            "empty": _("Write a message first."),
            "details_required": _("Please give your name and email before the chat starts."),
            "invalid_email": _("Enter a valid email address."),
            "unavailable": _("This chat is not available any more."),
            "server_error": _(
                "Your message could not be sent. It is kept; try again in %(seconds)s seconds."
            )
            % {"seconds": retry_after or 5},
        }
        return str(messages.get(code, messages["bad_frame"]))
