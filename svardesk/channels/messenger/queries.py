"""Reads of the Messenger channel: the Page behind a webhook key, its people, their
conversations, and what the settings list shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Max

from svardesk.channels.messenger.models import (
    MessengerConversation,
    MessengerEvent,
    MessengerPage,
    MessengerUser,
)
from svardesk.conversations.models import Message, MessageDirection
from svardesk.core.local_cache import cached, forget

_CACHE_PREFIX = "messenger:page:"


def _load_page(key: str) -> MessengerPage | None:
    return MessengerPage.objects.select_related("channel").filter(url_key=key).first()


def page_for_key(key: str) -> MessengerPage | None:
    """The Page whose webhook path has `key` (kept per process for a few seconds: read on
    every webhook; a change in this process forgets it at once)."""
    if not key or len(key) > 32:
        return None
    return cached(_CACHE_PREFIX + key, lambda: _load_page(key))


def forget_page(key: str) -> None:
    forget(_CACHE_PREFIX + key)


def get_page(channel_id: int) -> MessengerPage | None:
    return MessengerPage.objects.select_related("channel").filter(channel_id=channel_id).first()


def page_of_conversation(conversation_id: int) -> MessengerConversation | None:
    return (
        MessengerConversation.objects.select_related("user__page__channel")
        .filter(conversation_id=conversation_id)
        .first()
    )


def message_stored(channel_id: int, mid: str) -> bool:
    return Message.objects.filter(channel_id=channel_id, message_id=mid).exists()


def messenger_user(page: MessengerPage, psid: str) -> MessengerUser | None:
    return MessengerUser.objects.select_related("contact").filter(page=page, psid=psid).first()


def stored_message_ids(channel_id: int, mids: Iterable[str]) -> set[str]:
    """Which of `mids` are recorded on the channel already."""
    return set(
        Message.objects.filter(channel_id=channel_id, message_id__in=list(mids)).values_list(
            "message_id", flat=True
        )
    )


def messenger_users(page: MessengerPage, psids: Iterable[str]) -> list[MessengerUser]:
    return list(
        MessengerUser.objects.select_related("contact").filter(page=page, psid__in=list(psids))
    )


def latest_threads(user_ids: Iterable[int]) -> dict[int, MessengerConversation]:
    """Each person's latest conversation (by user id), in one statement."""
    threads: dict[int, MessengerConversation] = {}
    for thread in (
        MessengerConversation.objects.select_related("conversation")
        .filter(user_id__in=list(user_ids))
        .order_by("user_id", "-conversation_id")
    ):
        threads.setdefault(thread.user_id, thread)
    return threads


def person(
    page: MessengerPage, psid: str
) -> tuple[MessengerUser | None, MessengerConversation | None]:
    """The person and their latest conversation on the Page, in one statement when they
    have one (a known person's message: the webhook's common case)."""
    thread = (
        MessengerConversation.objects.select_related("conversation", "user__contact")
        .filter(user__page=page, user__psid=psid)
        .order_by("-conversation_id")
        .first()
    )
    if thread is not None:
        return thread.user, thread
    return messenger_user(page, psid), None


def latest_thread(user: MessengerUser) -> MessengerConversation | None:
    return (
        MessengerConversation.objects.select_related("conversation")
        .filter(user=user)
        .order_by("-conversation_id")
        .first()
    )


def last_inbound_at(conversation_id: int) -> dt.datetime | None:
    return Message.objects.filter(
        conversation_id=conversation_id, direction=MessageDirection.INBOUND
    ).aggregate(at=Max("created_at"))["at"]


def last_event_at(page: MessengerPage) -> dt.datetime | None:
    event = MessengerEvent.objects.filter(page=page).order_by("-id").only("received_at").first()
    return event.received_at if event is not None else None


def failing_events(page: MessengerPage) -> int:
    return MessengerEvent.objects.filter(
        page=page, processed_at__isnull=True, attempts__gt=0
    ).count()


def pending_event_ids(*, before: dt.datetime, max_attempts: int, limit: int) -> list[int]:
    return list(
        MessengerEvent.objects.filter(
            processed_at__isnull=True, received_at__lt=before, attempts__lt=max_attempts
        )
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )
