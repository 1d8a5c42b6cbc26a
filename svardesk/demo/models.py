"""What the demo loader connected, so the demo website (/demo/website/) can embed its chat and
link to its form. One row, written by `svardesk demo`; without it the demo website is a 404."""

from django.db import models

from svardesk.core.models import TimestampedModel


class DemoSite(TimestampedModel):
    """The demo's channels and the origin the demo is served on (one row, pk 1)."""

    origin = models.CharField(max_length=255)  # e.g. http://127.0.0.1:8000
    email_channel = models.ForeignKey(
        "conversations.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    chat_channel = models.ForeignKey(
        "conversations.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The one-line embed snippet `connect_chat` printed.
    chat_snippet = models.TextField(blank=True)
    form_channel = models.ForeignKey(
        "conversations.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The hosted form's absolute URL `connect_form` printed.
    form_url = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.origin


class PendingIndex(models.Model):
    """An index a large demo load dropped and has not rebuilt yet. The load's rows commit with
    these rows in one transaction; the indexes are then built on several connections at once
    (each build deletes its row in its own transaction), so an interrupted build is finished
    by the next `svardesk demo` (or `svardesk demo --finish-indexes`)."""

    name = models.CharField(max_length=200, unique=True)  # quoted as in SQL (quote_ident)
    table = models.CharField(max_length=200)
    definition = models.TextField()  # pg_get_indexdef()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
