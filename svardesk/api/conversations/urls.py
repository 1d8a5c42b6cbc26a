"""Conversations v3 paths (`/conversations/v3/conversations/…`), each with or without a
trailing slash; the assignee also under the newer spec's
`/conversations/conversations/v3/threads/{id}/assignee`."""

from django.urls import URLPattern, URLResolver, re_path

from svardesk.api.conversations import actors, inboxes, messages, threads

_BASE = r"^conversations/v3/conversations/"
_ID = r"(?P<{}>[^/]+)"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(_BASE + r"inboxes/?$", inboxes.inboxes),
    re_path(_BASE + r"inboxes/" + _ID.format("inbox_id") + r"/?$", inboxes.inbox),
    re_path(_BASE + r"channels/?$", inboxes.channels),
    re_path(_BASE + r"channels/" + _ID.format("channel_id") + r"/?$", inboxes.channel),
    re_path(_BASE + r"channel-accounts/?$", inboxes.channel_accounts),
    re_path(
        _BASE + r"channel-accounts/" + _ID.format("account_id") + r"/?$", inboxes.channel_account
    ),
    re_path(_BASE + r"threads/?$", threads.threads),
    re_path(_BASE + r"threads/" + _ID.format("thread_id") + r"/?$", threads.thread),
    re_path(
        _BASE + r"threads/" + _ID.format("thread_id") + r"/assignee/?$", threads.thread_assignee
    ),
    re_path(
        r"^conversations/conversations/v3/threads/" + _ID.format("thread_id") + r"/assignee/?$",
        threads.thread_assignee,
    ),
    re_path(
        _BASE + r"threads/" + _ID.format("thread_id") + r"/messages/?$", messages.thread_messages
    ),
    re_path(
        _BASE
        + r"threads/"
        + _ID.format("thread_id")
        + r"/messages/"
        + _ID.format("message_id")
        + r"/?$",
        messages.thread_message,
    ),
    re_path(
        _BASE
        + r"threads/"
        + _ID.format("thread_id")
        + r"/messages/"
        + _ID.format("message_id")
        + r"/original-content/?$",
        messages.original_content,
    ),
    re_path(
        _BASE + r"messages/" + _ID.format("message_id") + r"/original-content/?$",
        messages.message_original_content,
    ),
    re_path(_BASE + r"actors/batch/read/?$", actors.actors_batch_read),
    re_path(_BASE + r"actors/" + _ID.format("actor_id") + r"/?$", actors.actor),
]
