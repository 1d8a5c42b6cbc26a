import pytest

from svardesk.core.origins import InvalidOriginError, normalise_origin


@pytest.mark.parametrize(
    "value",
    ["https://shop.example/contact", "https://shop.example/?q=1", "https://shop.example/#x"],
)
def test_a_page_url_is_refused_unless_allowed_and_then_cut_to_its_origin(value):
    with pytest.raises(InvalidOriginError):
        normalise_origin(value)
    assert normalise_origin(value, page_url_allowed=True) == "https://shop.example"


@pytest.mark.parametrize("page_url_allowed", [False, True], ids=["origin", "page-url"])
def test_a_user_part_is_refused_either_way(page_url_allowed):
    with pytest.raises(InvalidOriginError):
        normalise_origin("https://user@shop.example", page_url_allowed=page_url_allowed)
