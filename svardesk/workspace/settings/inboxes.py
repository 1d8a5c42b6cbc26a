"""Settings → Inboxes (super admins and users with Account access): the help desk and the
conversations inboxes with their channels; create and rename a conversations inbox; move an
email or form channel with all its conversations into the help desk (`InboxMigration`, run
by a background task) and watch its progress."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.conversations import inbox_migration as engine
from svardesk.conversations.models import (
    Channel,
    Inbox,
    InboxKind,
    InboxMigration,
    InboxMigrationStatus,
)
from svardesk.core.decorators import account_access_required
from svardesk.workspace.settings.common import actor, found, render_settings

SECTION = "inboxes"


class InboxForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Inbox name"), max_length=100)


@dataclass
class ChannelRow:
    channel: Channel
    conversations: int
    can_migrate: bool
    reason: str
    migration: InboxMigration | None


@dataclass
class InboxRow:
    inbox: Inbox
    channels: list[ChannelRow] = field(default_factory=list)


def _rows() -> list[InboxRow]:
    """Every inbox with its channels, their conversation counts in that inbox and their latest
    migration (four queries, whatever the number of inboxes)."""
    ordered = sorted(Inbox.objects.all(), key=lambda i: (i.kind != InboxKind.HELP_DESK, i.pk))
    inboxes = {i.pk: InboxRow(i) for i in ordered}
    channels = Channel.objects.order_by("id").annotate(
        in_inbox=Count("conversations", filter=Q(conversations__inbox=F("inbox")))
    )
    latest: dict[int, InboxMigration] = {}
    for migration in InboxMigration.objects.order_by("id"):
        latest[migration.channel_id] = migration
    for channel in channels:
        row = inboxes.get(channel.inbox_id)
        if row is None:
            continue
        in_conversations_inbox = row.inbox.kind == InboxKind.CONVERSATIONS
        reason = engine.not_migratable_reason(channel) if in_conversations_inbox else ""
        row.channels.append(
            ChannelRow(
                channel=channel,
                conversations=channel.in_inbox,
                can_migrate=in_conversations_inbox and not reason,
                reason=reason,
                migration=latest.get(channel.pk),
            )
        )
    return list(inboxes.values())


def _render_list(request: HttpRequest, form: InboxForm, *, status: int = 200) -> HttpResponse:
    return render_settings(
        request,
        "workspace/settings/inboxes/list.html",
        section=SECTION,
        context={"rows": _rows(), "form": form},
        status=status,
    )


@account_access_required
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request, InboxForm())


@account_access_required
@require_POST
def inbox_create(request: HttpRequest) -> HttpResponse:
    form = InboxForm(request.POST)
    if form.is_valid():
        try:
            inbox = engine.create_inbox(actor=actor(request), name=form.cleaned_data["name"])
        except engine.InboxValidationError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, _("Inbox %(name)s was created.") % {"name": inbox.name})
            return redirect("settings:inboxes")
    return _render_list(request, form, status=422)


@account_access_required
@require_http_methods(["GET", "POST"])
def inbox_rename(request: HttpRequest, pk: int) -> HttpResponse:
    inbox = found(Inbox.objects.filter(pk=pk).first())
    form = (
        InboxForm(request.POST)
        if request.method == "POST"
        else InboxForm(initial={"name": inbox.name})
    )
    if form.is_bound and form.is_valid():
        try:
            engine.rename_inbox(inbox, actor=actor(request), name=form.cleaned_data["name"])
        except engine.InboxValidationError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(
                request, _("The inbox was renamed to %(name)s.") % {"name": inbox.name}
            )
            return redirect("settings:inboxes")
    return render_settings(
        request,
        "workspace/settings/inboxes/rename.html",
        section=SECTION,
        context={"inbox": inbox, "form": form},
        status=422 if form.is_bound else 200,
    )


@account_access_required
@require_http_methods(["GET", "POST"])
def channel_migrate(request: HttpRequest, channel_id: int) -> HttpResponse:
    """The confirm page (GET) and the start (POST) of moving a channel into the help desk."""
    channel = found(Channel.objects.select_related("inbox").filter(pk=channel_id).first())
    job = engine.unfinished_migration(channel)
    if job is not None and job.status in engine.UNFINISHED:
        return redirect("settings:inbox_migration", job.pk)
    error = ""
    if request.method == "POST":
        try:
            job = engine.start_migration(channel.pk, actor=actor(request))
        except engine.InboxMigrationError as exc:
            error = str(exc)
        else:
            return redirect("settings:inbox_migration", job.pk)
    elif job is None:  # a failed job is retried from here; otherwise the channel must qualify
        if channel.inbox.kind == InboxKind.HELP_DESK:
            error = _("This channel is in the help desk already.")
        else:
            error = engine.not_migratable_reason(channel)
    return render_settings(
        request,
        "workspace/settings/inboxes/migrate_confirm.html",
        section=SECTION,
        context={
            "channel": channel,
            "failed_job": job,
            "conversations": engine.count_movable(channel, job=job),
            "without_ticket": engine.count_movable(channel, job=job, without_ticket=True),
            "error": error,
        },
        status=409 if error and request.method == "POST" else 200,
    )


@account_access_required
@require_GET
def migration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = found(
        InboxMigration.objects.select_related("channel", "from_inbox").filter(pk=pk).first()
    )
    return render_settings(
        request,
        "workspace/settings/inboxes/migration.html",
        section=SECTION,
        context=_progress_context(job),
    )


@account_access_required
@require_GET
def migration_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress card alone, polled by the page while the job is queued or running."""
    job = found(
        InboxMigration.objects.select_related("channel", "from_inbox").filter(pk=pk).first()
    )
    return render(
        request, "workspace/settings/inboxes/partials/_progress.html", _progress_context(job)
    )


def _progress_context(job: InboxMigration) -> dict[str, object]:
    return {
        "job": job,
        "percent": engine.progress_percent(job),
        "is_finished": job.status in (InboxMigrationStatus.DONE, InboxMigrationStatus.FAILED),
    }
