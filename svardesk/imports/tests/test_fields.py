"""Reading cells: each property's rules, and which columns of a row failed."""

from __future__ import annotations

import pytest

from svardesk.imports.engine import cell_context, columns_of, importer_for, read_row
from svardesk.imports.fields import CellError, clean_cell, fields_for, match_headers
from svardesk.tickets.services import create_property_definition

pytestmark = pytest.mark.django_db


def field(object_type: str, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in fields_for(object_type) if f.name == name)


def test_a_row_names_only_the_columns_that_failed():
    mapping = ["email", "phone", "mobilephone"]
    importer = importer_for("contacts", cell_context("contacts"), None)

    row = read_row(
        1, ["a@example.com", "070-123 45 67", "12"], columns_of("contacts", mapping), importer
    )

    assert row.invalid == frozenset({"mobilephone"})
    assert row.error.startswith("mobilephone: ")
    assert row.values["phone"] == "+46701234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1 234,50", 1234.5), ("1,234.50", 1234.5), ("42", 42), ("-3,5", -3.5)],
    ids=["swedish", "english", "integer", "negative-comma"],
)
def test_numbers_in_either_notation(raw, expected):
    create_property_definition(
        actor=None, name="seats", label="Seats", type="number", object_type="company"
    )
    context = cell_context("companies")

    assert clean_cell(field("companies", "seats"), raw, context) == expected


def test_checkboxes_options_and_domains():
    create_property_definition(
        actor=None, name="vip", label="VIP", type="checkbox", object_type="contact"
    )
    create_property_definition(
        actor=None,
        name="tier",
        label="Tier",
        type="select",
        options=[{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
        object_type="contact",
    )
    contacts = cell_context("contacts")

    assert clean_cell(field("contacts", "vip"), "Ja", contacts) is True
    assert clean_cell(field("contacts", "vip"), "no", contacts) is False
    assert clean_cell(field("contacts", "tier"), "gold", contacts) == "gold"
    assert clean_cell(field("contacts", "tier"), "Silver", contacts) == "silver"
    with pytest.raises(CellError):
        clean_cell(field("contacts", "tier"), "Bronze", contacts)
    with pytest.raises(CellError):
        clean_cell(field("contacts", "vip"), "maybe", contacts)
    companies = cell_context("companies")
    assert clean_cell(field("companies", "domain"), "HTTPS://www.Acme.se/om?x=1", companies) == (
        "acme.se"
    )
    tickets = cell_context("tickets")
    assert clean_cell(field("tickets", "hs_ticket_priority"), "Hög", tickets) == "HIGH"


def test_headers_match_internal_names_aliases_and_labels_once_each():
    headers = ["Email", "E-post", "First Name", "Förnamn", "hubspot_owner_id", "Whatever"]

    assert match_headers(headers, fields_for("contacts")) == [
        "email",
        "",  # the same property again: left for --map
        "firstname",
        "",
        "hubspot_owner_id",
        "",
    ]
