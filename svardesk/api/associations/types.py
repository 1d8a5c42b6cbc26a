"""Object types and association types as HubSpot's API names them, read from paths and bodies.

A path names an object type in the plural (`tickets`), the singular (`ticket`) or by HubSpot's
id (`0-5`); Svardesk's association layer speaks the singular. Association type ids come from
`crm.associations.HUBSPOT_TYPE_IDS`, read in the direction the caller asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from svardesk.api import scopes
from svardesk.api.errors import ApiError, validation_error
from svardesk.crm import associations

TICKET, CONTACT, COMPANY, DEAL = (
    associations.TICKET,
    associations.CONTACT,
    associations.COMPANY,
    associations.DEAL,
)
PRIMARY = associations.PRIMARY
UNLABELLED = associations.UNLABELLED
HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
PRIMARY_LABEL = "Primary"

OBJECT_TYPE_IDS = {CONTACT: "0-1", COMPANY: "0-2", DEAL: "0-3", TICKET: "0-5"}
PLURALS = {TICKET: "tickets", CONTACT: "contacts", COMPANY: "companies", DEAL: "deals"}
_BY_NAME: dict[str, str] = {}
for _own, _plural in PLURALS.items():
    _BY_NAME[_own] = _BY_NAME[_plural] = _BY_NAME[OBJECT_TYPE_IDS[_own]] = _own


def object_type(raw: str) -> str:
    """The singular type a path segment names; 400 as HubSpot answers an unknown one."""
    found = _BY_NAME.get(raw.strip().lower())
    if found is None:
        raise validation_error(f"Unable to infer object type from: {raw}")
    return found


def require_pair_scopes(granted: list[str] | frozenset[str], *types: str, write: bool) -> None:
    """403 MISSING_SCOPES unless the token may read (or write) every one of `types`."""
    for each in types:
        scopes.require(granted, PLURALS[each], write=write)


def check_pair(from_type: str, to_type: str) -> None:
    """400 for two types Svardesk does not associate (a contact with a contact, say)."""
    try:
        associations.stored(from_type, to_type)
    except associations.AssociationError:
        raise validation_error(
            f"{PLURALS[from_type]} cannot be associated with {PLURALS[to_type]}."
        ) from None


def type_id(from_type: str, to_type: str, label: str) -> int | None:
    return associations.HUBSPOT_TYPE_IDS.get((from_type, to_type, label))


def type_specs(from_type: str, to_type: str, *, primary: bool) -> list[dict[str, object]]:
    """The association types between a pair as read from `from_type`'s end: the unlabelled
    one, and the primary one when the pair carries that label and HubSpot has an id for it
    (a ticket's primary contact has none: HubSpot marks it on the ticket, not by a type)."""
    specs: list[dict[str, object]] = [
        {"category": HUBSPOT_DEFINED, "typeId": type_id(from_type, to_type, UNLABELLED),
         "label": None}
    ]  # fmt: skip
    if primary:
        primary_id = type_id(from_type, to_type, PRIMARY)
        if primary_id is not None:
            specs.append(
                {"category": HUBSPOT_DEFINED, "typeId": primary_id, "label": PRIMARY_LABEL}
            )
    return specs


def labels_for(from_type: str, to_type: str) -> list[dict[str, object]]:
    """Every association type from `from_type` to `to_type` (the labels endpoint)."""
    specs = []
    for label in (UNLABELLED, PRIMARY):
        found = type_id(from_type, to_type, label)
        if found is not None:
            specs.append(
                {
                    "category": HUBSPOT_DEFINED,
                    "typeId": found,
                    "label": PRIMARY_LABEL if label == PRIMARY else None,
                }
            )
    return specs


@dataclass(frozen=True)
class Wanted:
    """What a list of association types asks for between one pair: the association, and
    whether the primary label too."""

    primary: bool


def parse_types(from_type: str, to_type: str, types: object) -> Wanted:
    """A body's `[{"associationCategory", "associationTypeId"}, …]` for this direction;
    400 for a type that does not link these two object types."""
    if not isinstance(types, list) or not types:
        raise validation_error("At least one association type is required.")
    primary = False
    for item in types:
        if not isinstance(item, dict):
            raise validation_error("Each association type must be a JSON object.")
        category = item.get("associationCategory", HUBSPOT_DEFINED)
        raw_id = item.get("associationTypeId")
        try:
            wanted_id = int(raw_id)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise validation_error(f"Invalid associationTypeId: {raw_id!r}") from None
        if category != HUBSPOT_DEFINED:
            raise _unknown_type(from_type, to_type, wanted_id, category)
        label = label_of(from_type, to_type, wanted_id)
        if label is None:
            raise _unknown_type(from_type, to_type, wanted_id, category)
        primary = primary or label == PRIMARY
    return Wanted(primary=primary)


def label_of(from_type: str, to_type: str, wanted_id: int) -> str | None:
    """Which label a type id stands for in this direction; None if it is not one of it."""
    for label in (UNLABELLED, PRIMARY):
        if type_id(from_type, to_type, label) == wanted_id:
            return label
    return None


def _unknown_type(from_type: str, to_type: str, wanted_id: int, category: object) -> ApiError:
    return validation_error(
        f"{category} association type {wanted_id} does not link "
        f"{PLURALS[from_type]} to {PLURALS[to_type]}.",
        context={"associationTypeId": [str(wanted_id)]},
    )


def v3_type_name(from_type: str, to_type: str) -> str:
    """The v3 associations API's name of the (unlabelled) type: `ticket_to_contact`."""
    return f"{from_type}_to_{to_type}"
