"""Which scopes a token may hold, and which one each object type needs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from svardesk.api.errors import MISSING_SCOPES, ApiError

# (scope, what it allows), in the order Settings lists them.
SCOPES: tuple[tuple[str, object], ...] = (
    ("tickets", _("Tickets, ticket pipelines and ticket properties: read and write")),
    ("crm.objects.contacts.read", _("Contacts: read")),
    ("crm.objects.contacts.write", _("Contacts: create, change and archive")),
    ("crm.objects.companies.read", _("Companies: read")),
    ("crm.objects.companies.write", _("Companies: create, change and archive")),
    ("crm.objects.deals.read", _("Deals: read")),
    ("crm.objects.deals.write", _("Deals: create, change and archive")),
    ("crm.objects.owners.read", _("Owners (users): read")),
    ("conversations.read", _("Conversations: read inboxes, threads and messages")),
    ("conversations.write", _("Conversations: reply, comment, change and archive threads")),
)
SCOPE_NAMES = frozenset(name for name, _label in SCOPES)

# An object type's read and write scopes; any one of each tuple is enough. `tickets` also
# answers to HubSpot's granular names.
_OBJECT_SCOPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tickets": (
        ("tickets", "crm.objects.tickets.read"),
        ("tickets", "crm.objects.tickets.write"),
    ),
    "contacts": (
        ("crm.objects.contacts.read", "crm.objects.contacts.write"),
        ("crm.objects.contacts.write",),
    ),
    "companies": (
        ("crm.objects.companies.read", "crm.objects.companies.write"),
        ("crm.objects.companies.write",),
    ),
    "deals": (
        ("crm.objects.deals.read", "crm.objects.deals.write"),
        ("crm.objects.deals.write",),
    ),
    "owners": (("crm.objects.owners.read",), ("crm.objects.owners.read",)),
    "conversations": (("conversations.read", "conversations.write"), ("conversations.write",)),
}


def scopes_for(area: str, *, write: bool) -> tuple[str, ...]:
    """The scopes that allow reading (or writing) `area`: an object type in plural
    (`tickets`, `contacts`, `companies`, `deals`), `owners` or `conversations`."""
    read_scopes, write_scopes = _OBJECT_SCOPES[area]
    return write_scopes if write else read_scopes


def require(granted: list[str] | frozenset[str], area: str, *, write: bool) -> None:
    """403 MISSING_SCOPES unless one of the scopes for `area` was granted."""
    needed = scopes_for(area, write=write)
    if any(scope in granted for scope in needed):
        return
    raise ApiError(
        403,
        MISSING_SCOPES,
        "This app hasn't been granted all required scopes to make this call. "
        "Read more about required scopes here: https://developers.hubspot.com/scopes.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(needed)},
            }
        ],
        context={"requiredGranularScopes": list(needed), "missingScopes": list(needed)},
    )
