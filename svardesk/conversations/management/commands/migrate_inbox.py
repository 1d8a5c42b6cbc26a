"""`svardesk migrate_inbox INBOX [--channel ID]`

Moves the email and form channels of a conversations inbox (INBOX: its id or name), with all
their historical conversations, into the help desk, creating tickets for conversations without
one — the same engine as Settings → Inboxes, in the foreground, with a progress bar on stderr.
An unfinished migration of a channel (killed, failed) is resumed. The last line on stdout is
the summary: `N conversations moved, M tickets created`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from tqdm import tqdm

from svardesk.conversations import inbox_migration as engine
from svardesk.conversations.models import (
    Channel,
    Inbox,
    InboxKind,
    InboxMigration,
    InboxMigrationStatus,
)


class Command(BaseCommand):
    help = (
        "Move a conversations inbox's email or form channel, with all its conversations, into "
        "the help desk (irreversible)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("inbox", help="the conversations inbox: its id or name")
        parser.add_argument(
            "--channel", type=int, help="only this channel (its id; default: every email/form one)"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=engine.BATCH_SIZE,
            help=f"conversations per transaction (default {engine.BATCH_SIZE})",
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="seconds to wait between batches, to go easy on a busy database",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        inbox = self._inbox(options["inbox"])
        channel_ids = self._channels(inbox, options["channel"])
        moved = created = 0
        for channel_id in channel_ids:
            job = self._job(channel_id)
            job = self._run(job, options)
            moved += job.moved
            created += job.tickets_created
        self.stdout.write(f"{moved} conversations moved, {created} tickets created")

    def _inbox(self, key: str) -> Inbox:
        query = Q(name__iexact=key.strip())
        if key.strip().isascii() and key.strip().isdigit():
            query |= Q(pk=int(key))
        inboxes = list(Inbox.objects.filter(query).order_by("id")[:2])
        if not inboxes:
            raise CommandError(f"No inbox {key!r} (give its id or name).")
        if len(inboxes) > 1:
            raise CommandError(f"More than one inbox is called {key!r}: give its id.")
        inbox = inboxes[0]
        if inbox.kind == InboxKind.HELP_DESK:
            raise CommandError(
                f"{inbox.name!r} is the help desk: migrate a conversations inbox into it."
            )
        return inbox

    def _channels(self, inbox: Inbox, channel_id: int | None) -> list[int]:
        """The channels to move: an unfinished migration out of this inbox first (its channel
        is in the help desk already), then the inbox's own email and form channels."""
        unfinished = InboxMigration.objects.filter(from_inbox=inbox).exclude(
            status=InboxMigrationStatus.DONE
        )
        if channel_id is not None:
            if unfinished.filter(channel_id=channel_id).exists():
                return [channel_id]
            channel = Channel.objects.filter(pk=channel_id, inbox=inbox).first()
            if channel is None:
                raise CommandError(f"Inbox {inbox.name!r} has no channel {channel_id}.")
            reason = engine.not_migratable_reason(channel)
            if reason:
                raise CommandError(reason)
            return [channel_id]
        ids = list(unfinished.order_by("id").values_list("channel_id", flat=True))
        for channel in Channel.objects.filter(inbox=inbox).order_by("id"):
            reason = engine.not_migratable_reason(channel)
            if reason:
                self.stderr.write(f"Skipped {channel.name!r}: {reason}")
            elif channel.pk not in ids:
                ids.append(channel.pk)
        if not ids:
            raise CommandError(f"Inbox {inbox.name!r} has no email or form channel to migrate.")
        return ids

    def _job(self, channel_id: int) -> InboxMigration:
        job = engine.unfinished_migration(Channel.objects.get(pk=channel_id))
        if job is not None:
            # Resumed here, whatever its state: a "running" job whose process was killed has
            # no one else to finish it.
            self.stderr.write(
                f"Resuming the migration of channel {channel_id}: {job.moved} of {job.total}"
                " conversations moved already."
            )
            return job
        try:
            job, _is_new = engine.prepare_migration(channel_id, actor=None)
        except engine.InboxMigrationError as error:
            raise CommandError(str(error)) from error
        return job

    def _run(self, job: InboxMigration, options: dict[str, Any]) -> InboxMigration:
        bar = tqdm(
            total=job.total or None,
            initial=job.moved,
            unit="conv",
            desc=job.channel.name[:30],
            disable=options["no_progress"],
            file=self.stderr._out,
            dynamic_ncols=True,
        )

        def progress(current: InboxMigration) -> None:
            if current.total and bar.total != current.total:
                bar.total = current.total
            bar.update(current.moved - bar.n)
            bar.set_postfix(tickets=current.tickets_created, refresh=False)

        try:
            return engine.run_migration(
                job.pk,
                batch_size=options["batch_size"],
                pause=options["pause"],
                progress=progress,
            )
        except Exception as error:
            raise CommandError(f"The migration stopped: {error}. Run the command again.") from error
        finally:
            bar.close()
