"""Customers. A minimal contact for now; companies, deals and custom objects come later."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel


class Contact(TimestampedModel):
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone number"), max_length=50, blank=True)
    mobile_phone = models.CharField(_("mobile phone number"), max_length=50, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)

    class Meta:
        ordering = ["first_name", "last_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email or self.phone or f"#{self.pk}"

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p]
        if parts:
            return "".join(p[0] for p in parts).upper()[:2]
        return (self.email or "?")[:2].upper()
