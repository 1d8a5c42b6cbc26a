"""Tickets, the pipelines and stages they move through, their properties and their timeline."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from svardesk.core.models import TimestampedModel


class BuiltinPipeline(models.TextChoices):
    """The pipeline Svardesk creates itself. Its key stays while its name is the one we gave
    it, so it reads in each reader's language; a name an admin types replaces it."""

    SUPPORT = "support", pgettext_lazy("built-in pipeline", "Support pipeline")


class BuiltinStage(models.TextChoices):
    """The statuses Svardesk creates with a pipeline (keyed as `BuiltinPipeline` is)."""

    NEW = "new", pgettext_lazy("built-in ticket status", "New")
    WAITING_ON_CONTACT = (
        "waiting_on_contact",
        pgettext_lazy("built-in ticket status", "Waiting on contact"),
    )
    WAITING_ON_US = "waiting_on_us", pgettext_lazy("built-in ticket status", "Waiting on us")
    CLOSED = "closed", pgettext_lazy("built-in ticket status", "Closed")


def builtin_display_name(choices: type[models.TextChoices], key: str, name: str) -> str:
    """A built-in record's name in the active language; any other record's name as typed."""
    if key and key in choices.values:
        return str(choices(key).label)
    return name


class Pipeline(TimestampedModel):
    """An ordered set of stages a ticket moves through, e.g. the default "Support pipeline"."""

    name = models.CharField(_("name"), max_length=100)
    # Set on the pipeline Svardesk created (its `name` then holds the English default, for
    # logs and the API); cleared when an admin renames it.
    builtin_key = models.CharField(
        max_length=32, choices=BuiltinPipeline.choices, blank=True, default=""
    )
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name as the reader sees it: a built-in one in their language."""
        return builtin_display_name(BuiltinPipeline, self.builtin_key, self.name)


class Stage(TimestampedModel):
    """A ticket status. Open stages keep a ticket in the open views; closed ones end its work."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    # As on Pipeline: set on the statuses Svardesk created, cleared when an admin renames one.
    builtin_key = models.CharField(
        max_length=32, choices=BuiltinStage.choices, blank=True, default=""
    )
    display_order = models.PositiveIntegerField(default=0)
    is_closed = models.BooleanField(_("closed stage"), default=False)

    class Meta:
        ordering = ["pipeline_id", "display_order", "id"]
        verbose_name = _("ticket status")
        verbose_name_plural = _("ticket statuses")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name as the reader sees it: a built-in one in their language."""
        return builtin_display_name(BuiltinStage, self.builtin_key, self.name)


class Priority(models.TextChoices):
    LOW = "LOW", _("Low")
    MEDIUM = "MEDIUM", _("Medium")
    HIGH = "HIGH", _("High")
    URGENT = "URGENT", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.URGENT: 4}


class Category(models.TextChoices):
    PRODUCT_ISSUE = "PRODUCT_ISSUE", _("Product issue")
    BILLING_ISSUE = "BILLING_ISSUE", _("Billing issue")
    FEATURE_REQUEST = "FEATURE_REQUEST", _("Feature request")
    GENERAL_INQUIRY = "GENERAL_INQUIRY", _("General inquiry")


class Source(models.TextChoices):
    EMAIL = "EMAIL", _("Email")
    CHAT = "CHAT", _("Chat")
    FORM = "FORM", _("Form")
    CALL = "CALL", _("Call")
    MESSENGER = "MESSENGER", _("Facebook Messenger")
    MANUAL = "MANUAL", _("Manual")
    API = "API", _("API")
    IMPORT = "IMPORT", _("Import")


_LIVE = Q(is_open=True, is_spam=False)


class SlaStatus(models.TextChoices):
    """Where a ticket stands against one SLA goal (the `sla` app keeps it up to date)."""

    ON_TRACK = "on_track", pgettext_lazy("SLA status", "On track")
    DUE_SOON = "due_soon", pgettext_lazy("SLA status", "Due soon")
    OVERDUE = "overdue", pgettext_lazy("SLA status", "Overdue")
    MET = "met", pgettext_lazy("SLA status", "Completed on time")
    MISSED = "missed", pgettext_lazy("SLA status", "Completed late")


# The SLA goals a ticket carries a due time and a status for, as column prefixes.
SLA_GOALS = ("first_response", "next_response", "close")


def _sla_indexes() -> list[models.Index]:
    # One index per goal serves the sweep (status = on_track/due_soon AND due <= t), the
    # filters on status and the sort by due time within a status; tickets the goal does not
    # apply to (status NULL) are not in it. A paused timer has no due time but keeps its status.
    return [
        models.Index(
            fields=[f"sla_{goal}_status", f"sla_{goal}_due"],
            condition=Q(**{f"sla_{goal}_status__isnull": False}),
            name=f"ticket_sla_{goal}_st"[:30],
        )
        for goal in SLA_GOALS
    ]


class Ticket(TimestampedModel):
    """A customer's request and everything the team does about it.

    `is_open` mirrors `not stage.is_closed` so that every default view is one indexed
    predicate; services keep it in step whenever the stage, or a stage's kind, changes.
    `version` rises with every change and detects stale edits (compare-and-set).
    """

    name = models.CharField(_("ticket name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="tickets"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("ticket status"), on_delete=models.PROTECT, related_name="tickets"
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, blank=True, default=""
    )
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, blank=True, default=""
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ticket owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_tickets",
    )
    team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    contact = models.ForeignKey(
        "crm.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    is_open = models.BooleanField(default=True)
    is_spam = models.BooleanField(default=False)
    closed_at = models.DateTimeField(_("close date"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"))
    # Who sent the latest message when it was an agent's outgoing one; None when the customer
    # wrote last. Drives the "Sent" view.
    last_message_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    preview = models.CharField(max_length=200, blank=True)
    # Set when this ticket was merged into another; replies to it land on the survivor.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_tickets"
    )
    custom = models.JSONField(_("custom properties"), default=dict, blank=True)
    # An identifier from another system, for CSV import de-duplication (nullable: see the
    # SLA columns below).
    external_id = models.CharField(_("external ID"), max_length=100, null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # SLA goals (written only by the `sla` app; its `TicketSla` keeps the timers behind them):
    # when each goal is due, and where the ticket stands; NULL when the goal does not apply
    # (nullable, so that SQLite adds the columns without rebuilding the table, which would
    # drop the search triggers and the raw-SQL indexes other apps keep on it).
    sla_first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    sla_first_response_status = models.CharField(
        _("first response SLA status"),
        max_length=10,
        choices=SlaStatus.choices,
        null=True,
        blank=True,
    )
    sla_next_response_due = models.DateTimeField(_("next response due"), null=True, blank=True)
    sla_next_response_status = models.CharField(
        _("next response SLA status"),
        max_length=10,
        choices=SlaStatus.choices,
        null=True,
        blank=True,
    )
    sla_close_due = models.DateTimeField(_("close due"), null=True, blank=True)
    sla_close_status = models.CharField(
        _("close SLA status"),
        max_length=10,
        choices=SlaStatus.choices,
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        # The views' indexes carry the columns a team-scoped agent's access check reads
        # (team, owner), so that agent's counts and pages are answered from the index alone
        # (PostgreSQL; SQLite has no INCLUDE and builds them without).
        indexes = [
            # With team and owner: a team-scoped agent's search walks this index newest
            # first, and checks access from the index instead of each ticket's row.
            models.Index(
                fields=["-last_activity_at", "-id"],
                include=["team", "owner"],
                name="ticket_recent",
            ),
            models.Index(
                fields=["-last_activity_at", "-id"], condition=_LIVE, name="ticket_open_recent"
            ),
            models.Index(
                fields=["owner", "-last_activity_at", "-id"],
                condition=_LIVE,
                include=["team"],
                name="ticket_open_owner",
            ),
            models.Index(
                fields=["team", "owner", "-last_activity_at", "-id"],
                condition=_LIVE,
                name="ticket_open_team",
            ),
            models.Index(
                fields=["-last_activity_at", "-id"],
                condition=Q(is_spam=True),
                include=["team", "owner"],
                name="ticket_spam_recent",
            ),
            models.Index(
                fields=["last_message_author", "-last_activity_at", "-id"],
                condition=Q(last_message_author__isnull=False, is_spam=False),
                include=["team", "owner"],
                name="ticket_sent_recent",
            ),
            models.Index(fields=["owner", "-last_activity_at"], name="ticket_owner_recent"),
            models.Index(fields=["team", "-last_activity_at"], name="ticket_team_recent"),
            models.Index(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="ticket_external_id",
            ),
            *_sla_indexes(),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"


class PropertyType(models.TextChoices):
    TEXT = "text", _("Single-line text")
    TEXTAREA = "textarea", _("Multi-line text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date picker")
    DATETIME = "datetime", _("Date and time picker")
    SELECT = "select", _("Dropdown select")
    MULTISELECT = "multiselect", _("Multiple checkboxes")
    CHECKBOX = "checkbox", _("Single checkbox")
    USER = "user", _("User")


class PropertyGroup(TimestampedModel):
    label = models.CharField(_("label"), max_length=100, unique=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "id"]
        verbose_name = _("property group")
        verbose_name_plural = _("property groups")

    def __str__(self) -> str:
        return self.label


class PropertyDefinition(TimestampedModel):
    """A custom ticket property. Its values live in `Ticket.custom[name]`, stored in the same
    plain JSON form the API emits (strings, numbers, booleans, lists of option values)."""

    name = models.SlugField(_("internal name"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=100)
    description = models.CharField(_("description"), max_length=255, blank=True)
    type = models.CharField(_("field type"), max_length=12, choices=PropertyType.choices)
    # Which records the property describes: tickets, contacts, companies or deals.
    object_type = models.CharField(_("object"), max_length=10, default="ticket")
    group = models.ForeignKey(
        PropertyGroup,
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="properties",
    )
    # [{"value": "gold", "label": "Gold"}, …] for select and multi-select.
    options = models.JSONField(default=list, blank=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["group__display_order", "display_order", "id"]
        verbose_name = _("ticket property")
        verbose_name_plural = _("ticket properties")

    def __str__(self) -> str:
        return self.label


class CreateFormField(models.Model):
    """A property shown in the "Create ticket" panel. Name, pipeline and status always are."""

    property_name = models.CharField(max_length=64, unique=True)
    display_order = models.PositiveIntegerField(default=0)
    is_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["display_order", "id"]

    def __str__(self) -> str:
        return self.property_name


class TicketEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    PROPERTY_CHANGED = "property_changed", _("Property changed")
    # An SLA goal started, paused, resumed, was met or missed (data: goal, event, due).
    SLA = "sla", _("SLA")
    # Two tickets were merged into this one (data: tickets, [[id, name], …], primary first).
    MERGED = "merged", _("Merged")
    # An agent logged a call on the ticket (data: direction, outcome, duration_seconds,
    # notes, called_at; see tickets.calls).
    CALL = "call", _("Call logged")
    # One of the ticket's conversations moved between inboxes (data: conversation, channel,
    # from_inbox, to_inbox, assignee — names as they read at the time, or None).
    CONVERSATION_MOVED = "conversation_moved", _("Conversation moved")


class TicketEvent(models.Model):
    """One line of a ticket's timeline: who did what, when. Property changes keep the old and
    new value both raw and as they read at the time, so renamed stages still read right."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=TicketEventKind.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="ticket_event_timeline")
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class TicketRedirect(models.Model):
    """An id that a merge retired: merging tickets makes a new ticket and removes both old
    rows, and each old id (and every id those had absorbed) points here to the ticket that
    holds their conversations now, so workspace URLs redirect and the API answers with it."""

    old_id = models.BigIntegerField(primary_key=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="merged_from")
    merged_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"#{self.old_id} → #{self.ticket_id}"
