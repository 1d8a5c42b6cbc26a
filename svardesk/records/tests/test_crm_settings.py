"""Settings → Contacts and companies: super admins set domain matching and the default phone
region; a bad region saves nothing; nobody else reaches the page."""

import pytest
from django.urls import reverse

from svardesk.crm.models import CrmSettings
from svardesk.crm.queries import crm_settings

pytestmark = pytest.mark.django_db


def test_super_admin_changes_domain_matching_and_the_phone_region(client, super_admin):
    client.force_login(super_admin)
    url = reverse("records:settings")
    page = client.get(url).content.decode()
    assert 'value="SE" selected' in page
    response = client.post(url, {"default_phone_region": "gb"})  # box unticked: off
    assert response.status_code == 302
    row = CrmSettings.objects.get()
    assert row.default_phone_region == "GB"
    assert row.associate_by_domain is False
    assert crm_settings().default_phone_region == "GB"  # the cached copy follows


def test_an_unknown_region_is_refused_and_nothing_changes(client, super_admin):
    client.force_login(super_admin)
    response = client.post(
        reverse("records:settings"), {"default_phone_region": "XX", "associate_by_domain": "on"}
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.content.decode()
    assert crm_settings().default_phone_region == "SE"


@pytest.mark.parametrize("who", ["agent", "no_seat_user"])
def test_only_super_admins_reach_the_page(request, client, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("records:settings")).status_code == 403
    assert (
        client.post(reverse("records:settings"), {"default_phone_region": "US"}).status_code == 403
    )
    assert CrmSettings.objects.filter(default_phone_region="US").exists() is False
