"""Settings → Channels and Connect a channel, composed from the channel registry.

Every connected channel (`conversations.models.Channel`, active or disconnected) is listed
with what its adapter says about it (`ChannelAdapter.state`: last message received, problems,
details, its settings page); Connect a channel lists every registered adapter that can be
connected from the workspace (`ChannelAdapter.connect_url`). No kind is named here: a channel
app that registers an adapter appears by itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from svardesk.conversations import queries, services
from svardesk.conversations.models import Channel
from svardesk.conversations.registry import (
    ChannelAdapter,
    ChannelState,
    UnknownChannelError,
    adapter_for,
    registered_adapters,
)
from svardesk.core.decorators import account_access_required
from svardesk.workspace.settings.common import actor, found, render_settings

logger = logging.getLogger(__name__)

SECTION = "channels"


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    label: str | Promise
    state: ChannelState
    disconnect_url: str


@dataclass(frozen=True)
class ConnectChoice:
    kind: str
    label: str | Promise
    description: str | Promise
    url: str


def _adapter(channel: Channel) -> ChannelAdapter | None:
    try:
        return adapter_for(channel)
    except UnknownChannelError:
        return None


def _state(adapter: ChannelAdapter, channel: Channel) -> ChannelState:
    try:
        return adapter.state(channel)
    except Exception:
        # One channel's broken state must not take the whole list down.
        logger.exception("Reading the state of channel %s (%s) failed", channel.pk, channel.kind)
        return ChannelState(problems=[_("Its state could not be read; see the server log.")])


def channel_row(channel: Channel) -> ChannelRow:
    adapter = _adapter(channel)
    if adapter is None:
        return ChannelRow(
            channel=channel,
            label=channel.get_kind_display(),
            state=ChannelState(
                problems=[_("This kind of channel is not installed, so it takes no messages.")]
            ),
            disconnect_url="",
        )
    generic = reverse("channel_settings:disconnect", args=[channel.pk])
    return ChannelRow(
        channel=channel,
        label=adapter.label or channel.get_kind_display(),
        state=_state(adapter, channel),
        disconnect_url=adapter.disconnect_url(channel) or generic,
    )


def connect_choices() -> list[ConnectChoice]:
    """Every registered adapter that can be connected from the workspace."""
    choices: list[ConnectChoice] = []
    for adapter in registered_adapters():
        url = adapter.connect_url()
        if url:
            choices.append(
                ConnectChoice(
                    kind=adapter.kind,
                    label=adapter.label or adapter.kind,
                    description=adapter.description,
                    url=url,
                )
            )
    return choices


@account_access_required
@require_GET
def channel_list(request: HttpRequest) -> HttpResponse:
    rows = [channel_row(channel) for channel in queries.list_channels()]
    return render_settings(
        request,
        "workspace/settings/channels.html",
        section=SECTION,
        context={"rows": rows, "choices": connect_choices()},
    )


@account_access_required
@require_GET
def connect_choose(request: HttpRequest) -> HttpResponse:
    return render_settings(
        request,
        "workspace/settings/connect.html",
        section=SECTION,
        context={"choices": connect_choices()},
    )


@account_access_required
@require_http_methods(["GET", "POST"])
def channel_disconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The generic disconnect, for channels without a disconnect page of their own."""
    channel = found(queries.get_channel(channel_id))
    row = channel_row(channel)
    if row.disconnect_url != request.path:
        # The channel has a page of its own (e.g. email's, which also erases credentials).
        return redirect(row.disconnect_url or "channel_settings:channels")
    if request.method == "POST":
        if channel.is_active:
            services.disconnect_channel(channel, actor=actor(request))
            messages.success(
                request,
                _("%(name)s was disconnected. Its tickets and conversations stay.")
                % {"name": channel.name},
            )
        return redirect("channel_settings:channels")
    return render_settings(
        request,
        "workspace/settings/channel_disconnect.html",
        section=SECTION,
        context={"row": row},
    )
