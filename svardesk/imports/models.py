"""CSV imports: one `ImportJob` per uploaded (or command-line) file.

The job keeps where its file is, how its columns map to properties, and how far it got:
`rows_done` data rows are applied and counted, committed in the same transaction as their
records, so a job that stops (a crash, a restarted worker) resumes after them and a job run
twice changes nothing the second time.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel


class ImportObjectType(models.TextChoices):
    """What one row of the file becomes (the `--type` of `import_csv`)."""

    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    TICKETS = "tickets", _("Tickets")


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", _("Mapping columns")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(TimestampedModel):
    object_type = models.CharField(max_length=16, choices=ImportObjectType.choices)
    # Absolute path of the CSV: an upload is kept under DATA_DIR/imports/; the command reads
    # the file where it is.
    file_path = models.CharField(max_length=1000)
    original_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    # One entry per column, in the file's order: the property it fills, or "" (ignored).
    mapping = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.MAPPING
    )
    # Rows read so far (applied, failed or unchanged), committed with their records.
    rows_done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)  # data rows; None until counted
    created = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)
    unchanged = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    # Absolute path of the CSV of failed rows (the row as it was, plus an error column).
    error_path = models.CharField(max_length=1000, blank=True)
    # Why the whole job failed (an unreadable file), shown on its page.
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.object_type}: {self.original_name}"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, int(self.rows_done * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
