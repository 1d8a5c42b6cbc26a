"""Addresses as people write them: lists an agent types, and one address formatted."""

from svardesk.core.addresses import (
    address_of,
    format_address,
    parse_address_list,
    split_address_list,
)


def test_parse_address_list_keeps_names_and_drops_empties():
    assert parse_address_list('"Lindqvist, Åsa" <asa@kund.example>, , bo@x.example') == [
        '"Lindqvist, Åsa" <asa@kund.example>',
        "bo@x.example",
    ]


def test_split_address_list_reports_what_is_not_an_address():
    assert split_address_list("a@b.example; x@, not an address,,") == (
        ["a@b.example"],
        ["x@", "not an address"],
    )


def test_format_address_quotes_a_name_with_specials_and_keeps_non_ascii():
    assert format_address("Lindqvist, Åsa", "asa@x.example") == '"Lindqvist, Åsa" <asa@x.example>'
    assert format_address("Åsa", "asa@x.example") == "Åsa <asa@x.example>"
    assert format_address("", "asa@x.example") == "asa@x.example"


def test_address_of_lowercases_the_address():
    assert address_of("Bo <BO@X.example>") == "bo@x.example"
    assert address_of("") == ""
