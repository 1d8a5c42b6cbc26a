"""Private-app tokens, and what an archived record looked like when it was archived."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A private app's access token. Only its SHA-256 is stored (the token itself is shown
    once, when it is created); `prefix` is kept to tell tokens apart in Settings. Requests
    made with it act as `user`, within that user's ticket access."""

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    scopes = models.JSONField(default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=24)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("private app")
        verbose_name_plural = _("private apps")

    def __str__(self) -> str:
        return self.name


class ArchivedRecord(models.Model):
    """A ticket, contact, company or deal archived through the API: the record itself is
    deleted (as the workspace deletes it), and its last properties stay here so that
    `archived=true` reads still answer as HubSpot's recycle bin does."""

    object_type = models.CharField(max_length=10)
    object_id = models.BigIntegerField()
    properties = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object_type", "object_id"], name="api_archived_once")
        ]
        indexes = [models.Index(fields=["object_type", "-archived_at"], name="api_archived_recent")]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id}"
