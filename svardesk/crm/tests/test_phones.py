"""Phone numbers with libphonenumber: Swedish, US, UK and German numbers in every format a
person writes them, stored in E.164, shown nationally or internationally, found by search."""

import pytest

from svardesk.crm import phones, services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # Sweden
        pytest.param("070-123 45 67", "SE", "+46701234567", id="se-national-mobile"),
        pytest.param("0701234567", "SE", "+46701234567", id="se-digits"),
        pytest.param("+46 70 123 45 67", "SE", "+46701234567", id="se-international"),
        pytest.param("0046701234567", "GB", "+46701234567", id="se-00-prefix-from-uk"),
        pytest.param("08-123 456 78", "SE", "+46812345678", id="se-stockholm"),
        pytest.param("(08) 123 456 78", "SE", "+46812345678", id="se-parentheses"),
        pytest.param("+46 (0)8 123 456 78", None, "+46812345678", id="se-trunk-in-parens"),
        # United States
        pytest.param("(650) 253-0000", "US", "+16502530000", id="us-parentheses"),
        pytest.param("650-253-0000", "US", "+16502530000", id="us-dashed"),
        pytest.param("650.253.0000", "US", "+16502530000", id="us-dotted"),
        pytest.param("+1 650 253 0000", "SE", "+16502530000", id="us-international"),
        pytest.param("1-650-253-0000", "US", "+16502530000", id="us-with-1"),
        # United Kingdom
        pytest.param("020 7946 0958", "GB", "+442079460958", id="uk-london"),
        pytest.param("07911 123456", "GB", "+447911123456", id="uk-mobile"),
        pytest.param("+44 (0)20 7946 0958", "SE", "+442079460958", id="uk-trunk-in-parens"),
        pytest.param("+44-7911-123456", None, "+447911123456", id="uk-dashed"),
        # Germany
        pytest.param("030 123456", "DE", "+4930123456", id="de-berlin"),
        pytest.param("(030) 1234567", "DE", "+49301234567", id="de-parentheses"),
        pytest.param("+49 151 23456789", "SE", "+4915123456789", id="de-mobile"),
        pytest.param("0151-23456789", "DE", "+4915123456789", id="de-mobile-dashed"),
    ],
)
def test_numbers_are_normalised_to_e164(raw, region, expected):
    assert phones.normalise(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        pytest.param("", "SE", id="empty"),
        pytest.param("12", "SE", id="too-short"),
        pytest.param("hello", "SE", id="letters"),
        pytest.param("070-123", "SE", id="se-short"),
        pytest.param("+46 70 123 45 67 89 01", "SE", id="se-long"),
        pytest.param("(123) 456-7890", "US", id="us-no-such-area"),
        pytest.param("020 7946 095", "GB", id="uk-short"),
        pytest.param("+49 0", "DE", id="de-nothing"),
        pytest.param("+999 123 456", "SE", id="no-such-country"),
    ],
)
def test_invalid_numbers_raise_a_clear_error(raw, region):
    with pytest.raises(phones.PhoneNumberError) as caught:
        phones.normalise(raw, region)
    assert str(caught.value)


def test_the_error_names_the_number_and_the_country_code_hint():
    with pytest.raises(phones.PhoneNumberError) as caught:
        phones.normalise("070-123", "SE")
    assert "070-123" in str(caught.value)
    assert "+44" in str(caught.value)


def test_the_default_region_comes_from_the_crm_settings(agent):
    assert phones.normalise("070 123 45 67") == "+46701234567"
    services.update_crm_settings(actor=agent, default_phone_region="GB")
    assert phones.normalise("07911 123456") == "+447911123456"


@pytest.mark.parametrize(
    ("e164", "national", "international"),
    [
        pytest.param("+46701234567", "070-123 45 67", "+46 70 123 45 67", id="se"),
        pytest.param("+16502530000", "(650) 253-0000", "+1 650-253-0000", id="us"),
        pytest.param("+442079460958", "020 7946 0958", "+44 20 7946 0958", id="uk"),
        pytest.param("+4930123456", "030 123456", "+49 30 123456", id="de"),
    ],
)
def test_formats(e164, national, international):
    assert phones.format_national(e164) == national
    assert phones.format_international(e164) == international


def test_display_is_national_at_home_and_international_abroad():
    assert phones.format_for_region("+46701234567", "SE") == "070-123 45 67"
    assert phones.format_for_region("+442079460958", "SE") == "+44 20 7946 0958"
    assert phones.format_for_region("not a number", "SE") == "not a number"
    assert phones.format_national("") == ""


@pytest.mark.parametrize(
    ("query", "region", "expected"),
    [
        pytest.param("070-123 45 67", "SE", "+46701234567", id="se-national"),
        pytest.param("46701234567", "SE", "+46701234567", id="se-digits-with-country"),
        pytest.param("+46 70 123 45 67", "SE", "+46701234567", id="se-international"),
        pytest.param("(650) 253-0000", "US", "+16502530000", id="us"),
        pytest.param("16502530000", "SE", "+16502530000", id="us-digits-from-sweden"),
        pytest.param("020 7946 0958", "GB", "+442079460958", id="uk"),
        pytest.param("030 123456", "DE", "+4930123456", id="de"),
    ],
)
def test_search_forms_include_the_stored_number(query, region, expected):
    assert expected in phones.search_forms(query, region)


@pytest.mark.parametrize("query", ["anna", "12", "anna@example.se", "", "070 abc"])
def test_search_forms_of_text_that_is_no_number_are_empty(query):
    assert phones.search_forms(query, "SE") == []
