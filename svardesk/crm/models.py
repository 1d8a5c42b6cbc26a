"""Customers: contacts, companies and deals, and the associations between them and tickets.

crm sits below tickets: it knows no ticket model. A ticket's links to records are rows of
`Association` (object type + id on both ends), so one table serves every pair and the API can
expose HubSpot's association types without a second schema. `Ticket.contact` stays as the
ticket's primary contact (which replies go to) and `Contact.company` as a contact's primary
company; services keep each in step with its "primary" association row.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from svardesk.core.models import TimestampedModel


class ObjectType(models.TextChoices):
    """The record types an association links; names as HubSpot's API spells them (singular)."""

    TICKET = "ticket", _("Ticket")
    CONTACT = "contact", _("Contact")
    COMPANY = "company", _("Company")
    DEAL = "deal", _("Deal")


class Company(TimestampedModel):
    name = models.CharField(_("company name"), max_length=200)
    # Lower case, no scheme, no "www.": what a contact's email domain is compared with.
    domain = models.CharField(_("company domain name"), max_length=253, blank=True)
    phone = models.CharField(_("phone number"), max_length=32, blank=True)  # E.164
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country/region"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("company owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Custom property values (plain JSON, as for tickets), keyed by internal name.
    custom = models.JSONField(default=dict, blank=True)
    # An identifier from another system, for CSV import de-duplication.
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["domain"], name="crm_company_domain"),
            models.Index(
                fields=["external_id"],
                name="crm_company_external_id",
                condition=~models.Q(external_id=""),
            ),
            # The company list's default order, newest first (keyset paging), and by name.
            models.Index(fields=["-created_at", "-id"], name="crm_company_created"),
            models.Index(fields=["name", "id"], name="crm_company_name_sort"),
        ]

    def __str__(self) -> str:
        return self.name or self.domain or f"#{self.pk}"


class Contact(TimestampedModel):
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    # The primary email; every address (this one too) is a ContactEmail row.
    email = models.EmailField(_("email"), blank=True, db_index=True)
    # E.164 ("+46701234567"); every number is also a ContactPhone row.
    phone = models.CharField(_("phone number"), max_length=50, blank=True)
    mobile_phone = models.CharField(_("mobile phone number"), max_length=50, blank=True)
    # What the customer wrote as their company; the record is `company`.
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("primary company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    # Columns added after the first release are nullable with no default: SQLite then adds
    # them in place instead of rebuilding the table (which would drop the search triggers).
    language = models.CharField(_("preferred language"), max_length=10, null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contact owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    custom = models.JSONField(null=True, blank=True)  # None reads as no custom values
    external_id = models.CharField(_("external ID"), max_length=100, null=True, blank=True)
    # Set when this contact was merged into another: its id resolves to the survivor.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["first_name", "last_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(
                fields=["external_id"],
                name="crm_contact_external_id",
                condition=models.Q(external_id__isnull=False),
            ),
            # The contact list's default order, newest first (keyset paging; merged-away
            # contacts are never listed).
            models.Index(
                fields=["-created_at", "-id"],
                name="crm_contact_created",
                condition=models.Q(merged_into__isnull=True),
            ),
            # The contact list sorted by its first column, the name.
            models.Index(
                fields=["first_name", "id"],
                name="crm_contact_first_name_sort",
                condition=models.Q(merged_into__isnull=True),
            ),
        ]

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


class ContactEmail(models.Model):
    """One of a contact's addresses. An address belongs to one contact (compared lower-case);
    inbound mail finds its contact by any of them."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(_("email"))
    # lower(email), kept by the services: the unique key and what lookups compare.
    email_key = models.CharField(max_length=254, unique=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["contact", "is_primary"], name="crm_email_contact")]

    def __str__(self) -> str:
        return self.email


class PhoneKind(models.TextChoices):
    PHONE = "phone", _("Phone number")
    MOBILE = "mobile", _("Mobile phone number")


class ContactPhone(models.Model):
    """One of a contact's numbers, in E.164; search finds it in any format."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone number"), max_length=32)
    kind = models.CharField(max_length=10, choices=PhoneKind.choices, default=PhoneKind.PHONE)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "number"], name="crm_phone_once_per_contact")
        ]
        indexes = [models.Index(fields=["number"], name="crm_phone_number")]

    def __str__(self) -> str:
        return self.number


class DealStage(models.TextChoices):
    """HubSpot's default sales pipeline, by its internal stage names."""

    APPOINTMENT_SCHEDULED = (
        "appointmentscheduled",
        pgettext_lazy("deal stage", "Appointment scheduled"),
    )
    QUALIFIED_TO_BUY = "qualifiedtobuy", pgettext_lazy("deal stage", "Qualified to buy")
    PRESENTATION_SCHEDULED = (
        "presentationscheduled",
        pgettext_lazy("deal stage", "Presentation scheduled"),
    )
    DECISION_MAKER_BOUGHT_IN = (
        "decisionmakerboughtin",
        pgettext_lazy("deal stage", "Decision maker bought-in"),
    )
    CONTRACT_SENT = "contractsent", pgettext_lazy("deal stage", "Contract sent")
    CLOSED_WON = "closedwon", pgettext_lazy("deal stage", "Closed won")
    CLOSED_LOST = "closedlost", pgettext_lazy("deal stage", "Closed lost")


class Deal(TimestampedModel):
    name = models.CharField(_("deal name"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="SEK")  # ISO 4217
    pipeline = models.CharField(_("pipeline"), max_length=64, default="default")
    stage = models.CharField(
        _("deal stage"),
        max_length=64,
        choices=DealStage.choices,
        default=DealStage.APPOINTMENT_SCHEDULED,
    )
    close_date = models.DateField(_("close date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deal owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    custom = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        # The deal list's default order, newest first (keyset paging).
        indexes = [models.Index(fields=["-created_at", "-id"], name="crm_deal_created")]

    def __str__(self) -> str:
        return self.name


class AssociationLabel(models.TextChoices):
    NONE = "", _("Unlabelled")
    PRIMARY = "primary", _("Primary")


class Association(models.Model):
    """A link between two records, stored once per pair in the direction `associations.PAIRS`
    names (ticket → contact, ticket → company, ticket → deal, deal → contact, deal → company,
    contact → company) and read from either end. A pair may carry several labels: an
    unlabelled row always, plus "primary" for the ticket's primary contact and company and a
    contact's primary company."""

    from_type = models.CharField(max_length=10, choices=ObjectType.choices)
    from_id = models.BigIntegerField()
    to_type = models.CharField(max_length=10, choices=ObjectType.choices)
    to_id = models.BigIntegerField()
    label = models.CharField(
        max_length=32, choices=AssociationLabel.choices, blank=True, default=AssociationLabel.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["from_type", "from_id", "to_type", "to_id", "label"],
                name="crm_association_once",
            )
        ]
        indexes = [
            models.Index(fields=["to_type", "to_id", "from_type"], name="crm_association_to"),
        ]

    def __str__(self) -> str:
        return f"{self.from_type}:{self.from_id} → {self.to_type}:{self.to_id} {self.label}".strip()


class CrmSettings(models.Model):
    """Account-wide CRM settings (one row, `crm.queries.crm_settings()`)."""

    # A new contact whose email domain is a company's domain joins that company.
    associate_by_domain = models.BooleanField(
        _("Associate contacts with companies by email domain"), default=True
    )
    # Phone numbers written without a country code are read in this region (ISO 3166 alpha-2).
    default_phone_region = models.CharField(_("default phone region"), max_length=2, default="SE")

    class Meta:
        verbose_name = _("CRM settings")
        verbose_name_plural = _("CRM settings")

    def __str__(self) -> str:
        return "CRM settings"


class RecordEvent(models.Model):
    """One entry of a contact's, company's or deal's timeline: created, a property changed
    (old and new plain values), associated or dissociated, merged. Written by crm.services in
    the same transaction as the change."""

    object_type = models.CharField(max_length=10, choices=ObjectType.choices)
    object_id = models.BigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "created", "changed", "associated", "dissociated", "merged"
    kind = models.CharField(max_length=20)
    property_name = models.CharField(max_length=64, blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["object_type", "object_id", "-created_at"], name="crm_event_record"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} {self.kind} {self.property_name}".strip()
