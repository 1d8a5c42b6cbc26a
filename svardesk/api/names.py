"""The one translation layer between HubSpot's property names and values and Svardesk's.

Contacts, companies and deals already carry HubSpot's internal names in their registry
(`records.properties`); tickets' registry uses Svardesk's (`name`, `stage`, …), so
`TICKET_NAMES` maps each HubSpot ticket property to the ticket property it reads. Custom
properties keep their internal names on every object.

Values: the API speaks strings (`"42"`, `"true"`, `"A;B"`, ISO-8601 with milliseconds and
`Z`, ids as digits); the registries speak plain values (numbers, booleans, lists, ISO strings,
primary keys). `to_api` and `from_api` convert one value of one property between the two,
including the few values HubSpot names differently: the built-in pipeline is `"0"`, the
source Call is `PHONE`, SLA statuses are `"0"`…`"4"`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from svardesk.api.http import iso
from svardesk.tickets.models import BuiltinPipeline, Pipeline, PropertyType, SlaStatus, Source

# HubSpot ticket property → Svardesk ticket property (tickets.properties' names).
TICKET_NAMES: dict[str, str] = {
    "subject": "name",
    "content": "description",
    "hs_pipeline": "pipeline",
    "hs_pipeline_stage": "stage",
    "hs_ticket_priority": "priority",
    "hs_ticket_category": "category",
    "hubspot_owner_id": "owner",
    "hubspot_team_id": "team",
    "source_type": "source",
    "createdate": "created_at",
    "hs_lastmodifieddate": "updated_at",
    "closed_date": "closed_at",
    "hs_lastactivitydate": "last_activity_at",
    "hs_object_id": "id",
    "hs_ticket_id": "id",
    "hs_time_to_first_response_sla_at": "sla_first_response_due",
    "hs_time_to_first_response_sla_status": "sla_first_response_status",
    "hs_time_to_next_response_sla_at": "sla_next_response_due",
    "hs_time_to_next_response_sla_status": "sla_next_response_status",
    "hs_time_to_close_sla_at": "sla_close_due",
    "hs_time_to_close_sla_status": "sla_close_status",
}
SVARDESK_TICKET_NAMES: dict[str, str] = {}
for _api, _own in TICKET_NAMES.items():
    SVARDESK_TICKET_NAMES.setdefault(_own, _api)  # hs_object_id before hs_ticket_id

# Ticket properties the API computes and never writes.
TICKET_COMPUTED = frozenset({"hs_merged_object_ids", "hs_is_closed"})
TICKET_READ_ONLY = frozenset(
    {"hs_object_id", "hs_ticket_id", "createdate", "hs_lastmodifieddate", "closed_date",
     "hs_lastactivitydate", "source_type", *TICKET_COMPUTED}
    | {name for name in TICKET_NAMES if "_sla_" in name}
)  # fmt: skip

# What GET, list, batch read and search return when no `properties` are asked for.
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "tickets": ("content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
                "hs_ticket_priority", "subject", "createdate", "hs_lastmodifieddate",
                "hs_object_id"),
    "contacts": ("firstname", "lastname", "email", "lastmodifieddate", "hs_object_id",
                 "createdate"),
    "companies": ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage", "createdate",
              "hs_lastmodifieddate", "hs_object_id"),
}  # fmt: skip
# Always in a response, whatever was asked for.
ALWAYS_PROPERTIES: dict[str, tuple[str, ...]] = {
    "tickets": ("hs_object_id", "createdate", "hs_lastmodifieddate"),
    "contacts": ("hs_object_id", "createdate", "lastmodifieddate"),
    "companies": ("hs_object_id", "createdate", "hs_lastmodifieddate"),
    "deals": ("hs_object_id", "createdate", "hs_lastmodifieddate"),
}

_SOURCE_TO_API = {Source.CALL: "PHONE"}
_SOURCE_FROM_API = {api: own for own, api in _SOURCE_TO_API.items()}
# HubSpot's SLA status options (hubspot-helpdesk-features.md P-19).
_SLA_TO_API = {
    SlaStatus.ON_TRACK: "0",
    SlaStatus.OVERDUE: "1",
    SlaStatus.DUE_SOON: "2",
    SlaStatus.MET: "3",
    SlaStatus.MISSED: "4",
}
_SLA_FROM_API = {api: own for own, api in _SLA_TO_API.items()}
DEFAULT_PIPELINE_API_ID = "0"


def builtin_pipeline_id() -> int | None:
    return (
        Pipeline.objects.filter(builtin_key=BuiltinPipeline.SUPPORT)
        .values_list("pk", flat=True)
        .first()
    )


def pipeline_to_api(pipeline_id: int | None, builtin_id: int | None) -> str | None:
    """A pipeline's API id: `"0"` for the built-in Support pipeline (HubSpot's default
    pipeline id), its primary key for any other."""
    if pipeline_id is None:
        return None
    return DEFAULT_PIPELINE_API_ID if pipeline_id == builtin_id else str(pipeline_id)


def pipeline_from_api(raw: str, builtin_id: int | None) -> int:
    """The pipeline's primary key; ValueError if `raw` is not an id."""
    raw = str(raw).strip()
    if raw == DEFAULT_PIPELINE_API_ID and builtin_id is not None:
        return builtin_id
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


def _number_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_api(
    kind: str, value: Any, *, name: str = "", builtin_pipeline: int | None = None
) -> str | None:
    """A plain registry value of a property of type `kind` (PropertySpec.type) as the API's
    string; None when the property has no value. `name` is the Svardesk property name, for
    the values HubSpot names differently."""
    if value is None or value == "" or value == []:
        return None
    if name == "pipeline":
        return pipeline_to_api(int(value), builtin_pipeline)
    if name == "source":
        return _SOURCE_TO_API.get(value, str(value))
    if name.startswith("sla_") and name.endswith("_status"):
        return _SLA_TO_API.get(value, str(value))
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if kind in (PropertyType.DATETIME, "datetime"):
        moment = parse_datetime(str(value))
        if moment is not None:
            return iso(moment)
        day = parse_date(str(value))
        return day.isoformat() if day else str(value)
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return _number_text(value)


def epoch_ms_to_iso(raw: str) -> str | None:
    """`1579514400000` (epoch milliseconds, as HubSpot accepts for dates) as ISO-8601 UTC."""
    text = raw.strip()
    if (
        text.lstrip("-").isascii()
        and text.lstrip("-").isdigit()
        and 9 <= len(text.lstrip("-")) <= 15
    ):
        moment = dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
        return moment.isoformat()
    return None


def from_api(kind: str, raw: Any, *, name: str = "", builtin_pipeline: int | None = None) -> Any:
    """An API value (string, number or boolean, as clients send) of a property of type `kind`
    as the registry's plain value, before the registry's own checks. "" means no value.
    Raises ValueError for a value that cannot be one of this property's."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, int | float):
        text = _number_text(raw)
    else:
        text = str(raw)
    if text == "":
        return None
    if name == "pipeline":
        return pipeline_from_api(text, builtin_pipeline)
    if name in ("stage", "owner", "team", "contact") or kind in (PropertyType.USER, "company_ref"):
        text = text.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise ValueError(text)
        return int(text)
    if name == "source":
        return _SOURCE_FROM_API.get(text, text)
    if name.startswith("sla_") and name.endswith("_status"):
        return _SLA_FROM_API.get(text, text)
    if kind in (PropertyType.DATETIME, PropertyType.DATE):
        from_epoch = epoch_ms_to_iso(text)
        if from_epoch is not None:
            return from_epoch[:10] if kind == PropertyType.DATE else from_epoch
        return text
    if kind == PropertyType.MULTISELECT:
        return [part for part in text.split(";") if part]
    if kind == PropertyType.CHECKBOX:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError(text)
    if kind == PropertyType.NUMBER:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(text) from None
        return (
            int(number)
            if number.is_integer() and "." not in text and "e" not in text.lower()
            else number
        )
    return text
