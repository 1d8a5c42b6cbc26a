"""The contact, company and deal lists: filters through the one engine (built-in and custom
properties of every kind), keyset paging, sort, saved views, access and Swedish rendering."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from svardesk.crm import associations
from svardesk.crm.models import Company, Contact, Deal, DealStage
from svardesk.records import list_queries as lq
from svardesk.records import properties as rp
from svardesk.ticket_views.filters import Filter, FilterError, compile_filters
from svardesk.ticket_views.models import CustomView, Sharing
from svardesk.tickets.models import PropertyType
from svardesk.tickets.services import create_property_definition
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-record-id="(\d+)"', html)]


def _filtered(object_type: str, *filters: Filter, viewer=None) -> set[int]:
    specs = rp.specs_by_name(object_type)
    condition = compile_filters(
        list(filters), viewer=viewer, specs=specs, schema=rp.filter_schema(object_type)
    )
    model = rp.MODELS[object_type]
    return set(model.objects.filter(condition).values_list("pk", flat=True))


# --- The property registry ----------------------------------------------------------------


def test_registry_has_hubspot_names_and_custom_properties_per_type(super_admin):
    create_property_definition(
        actor=super_admin, name="tier", label="Tier", type=PropertyType.TEXT, object_type="contact"
    )
    create_property_definition(
        actor=super_admin, name="region", label="Region", type=PropertyType.TEXT,
        object_type="company",
    )  # fmt: skip
    contact_names = [s.name for s in rp.specs_for("contact")]
    assert contact_names[:3] == ["firstname", "lastname", "email"]
    assert {"mobilephone", "hs_language", "hubspot_owner_id", "company"} <= set(contact_names)
    assert "tier" in contact_names
    assert "region" not in contact_names
    assert "region" in {s.name for s in rp.specs_for("company")}
    assert {"dealname", "amount", "dealstage", "closedate"} <= {
        s.name for s in rp.specs_for("deal")
    }


def test_plain_and_display_values(super_admin):
    company = Company.objects.create(name="Acme AB", domain="acme.se")
    contact = Contact.objects.create(
        first_name="Anna", email="anna@acme.se", company=company, owner=super_admin,
        phone="+46701234567", custom=None,
    )  # fmt: skip
    deal = Deal.objects.create(
        name="Big", amount=Decimal("1200.50"), close_date=dt.date(2025, 3, 1)
    )
    specs, deal_specs = rp.specs_by_name("contact"), rp.specs_by_name("deal")
    assert rp.plain_value(contact, specs["company"]) == company.pk
    assert rp.plain_value(contact, specs["hubspot_owner_id"]) == super_admin.pk
    assert rp.display(contact, specs["company"]) == "Acme AB"
    assert rp.display(contact, specs["hubspot_owner_id"]) == super_admin.display_name
    assert rp.plain_value(deal, deal_specs["amount"]) == 1200.5
    assert rp.plain_value(deal, deal_specs["closedate"]) == "2025-03-01"
    assert rp.custom_values(contact) == {}  # a contact's custom may be None


# --- Filters: the tickets' engine on other records ---------------------------------------


def test_builtin_filters_on_contacts(super_admin, agent):
    acme = Company.objects.create(name="Acme")
    anna = Contact.objects.create(first_name="Anna", email="anna@acme.se", company=acme,
                                  owner=agent, language="sv")  # fmt: skip
    bo = Contact.objects.create(first_name="Bo", email="bo@other.se", language=None)
    cy = Contact.objects.create(first_name="Cy", email="", language="")
    assert _filtered("contact", Filter("firstname", "EQ", value="anna")) == {anna.pk}
    assert _filtered("contact", Filter("email", "CONTAINS_TOKEN", value="*@acme.se")) == {anna.pk}
    assert _filtered("contact", Filter("company", "IN", values=(acme.pk,))) == {anna.pk}
    assert _filtered("contact", Filter("company", "NOT_HAS_PROPERTY")) == {bo.pk, cy.pk}
    assert _filtered("contact", Filter("hubspot_owner_id", "EQ", value="me"), viewer=agent) == {
        anna.pk
    }
    # A language NULL or "" is unknown alike.
    assert _filtered("contact", Filter("hs_language", "HAS_PROPERTY")) == {anna.pk}
    assert _filtered("contact", Filter("hs_language", "NOT_IN", values=("sv",))) == {bo.pk, cy.pk}
    assert _filtered("contact", Filter("email", "NOT_HAS_PROPERTY")) == {cy.pk}


def test_builtin_filters_on_companies_and_deals():
    acme = Company.objects.create(name="Acme", domain="acme.se", city="Lund")
    other = Company.objects.create(name="Other", domain="other.com")
    big = Deal.objects.create(name="Big", amount=5000, stage=DealStage.CLOSED_WON,
                              close_date=dt.date(2025, 1, 10))  # fmt: skip
    small = Deal.objects.create(name="Small", amount=10)
    none = Deal.objects.create(name="None", amount=None)
    assert _filtered("company", Filter("domain", "EQ", value="ACME.se")) == {acme.pk}
    assert _filtered("company", Filter("city", "NOT_HAS_PROPERTY")) == {other.pk}
    assert _filtered("deal", Filter("amount", "GT", value="100")) == {big.pk}
    assert _filtered("deal", Filter("amount", "BETWEEN", value=5, high_value=6000)) == {
        big.pk,
        small.pk,
    }
    assert _filtered("deal", Filter("amount", "NOT_HAS_PROPERTY")) == {none.pk}
    assert _filtered("deal", Filter("dealstage", "IN", values=("closedwon",))) == {big.pk}
    assert _filtered("deal", Filter("closedate", "LT", value="2025-01-11")) == {big.pk}
    assert _filtered("deal", Filter("createdate", "BETWEEN", value="last_1_days")) == {
        big.pk,
        small.pk,
        none.pk,
    }


@pytest.mark.parametrize("object_type", ["contact", "company", "deal"])
def test_custom_filters_of_every_kind(super_admin, agent, object_type):
    model = rp.MODELS[object_type]
    defs = {
        "p_text": (PropertyType.TEXT, None),
        "p_number": (PropertyType.NUMBER, None),
        "p_date": (PropertyType.DATE, None),
        "p_datetime": (PropertyType.DATETIME, None),
        "p_select": (PropertyType.SELECT, [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]),
        "p_multi": (PropertyType.MULTISELECT, [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}]),
        "p_check": (PropertyType.CHECKBOX, None),
        "p_user": (PropertyType.USER, None),
        "p_area": (PropertyType.TEXTAREA, None),
    }  # fmt: skip
    for name, (kind, options) in defs.items():
        create_property_definition(
            actor=super_admin, name=f"{object_type}_{name}", label=name, type=kind,
            options=options, object_type=object_type,
        )  # fmt: skip
    base = {"contact": {"first_name": "R"}, "company": {"name": "R"}, "deal": {"name": "R"}}
    values = {
        "p_text": "Gold", "p_number": 12, "p_date": "2025-02-03",
        "p_datetime": "2025-02-03T10:00:00+00:00", "p_select": "a", "p_multi": ["x", "y"],
        "p_check": True, "p_user": agent.pk, "p_area": "long text",
    }  # fmt: skip
    full = model.objects.create(
        **base[object_type], custom={f"{object_type}_{k}": v for k, v in values.items()}
    )
    empty = model.objects.create(
        **base[object_type], custom={} if object_type != "contact" else None
    )

    def only(name: str, operator: str, **kw) -> set[int]:
        return _filtered(object_type, Filter(f"{object_type}_{name}", operator, **kw), viewer=agent)

    assert only("p_text", "EQ", value="gold") == {full.pk}
    assert only("p_text", "NEQ", value="gold") == {empty.pk}
    assert only("p_number", "GTE", value=12) == {full.pk}
    assert only("p_date", "EQ", value="2025-02-03") == {full.pk}
    assert only("p_datetime", "GT", value="2025-02-02") == {full.pk}
    assert only("p_select", "IN", values=("a",)) == {full.pk}
    assert only("p_multi", "CONTAINS_TOKEN", values=("x", "y")) == {full.pk}
    assert only("p_multi", "NOT_IN", values=("x",)) == {empty.pk}
    assert only("p_check", "EQ", value="true") == {full.pk}
    assert only("p_user", "EQ", value="me") == {full.pk}
    assert only("p_area", "CONTAINS_TOKEN", value="LONG") == {full.pk}
    assert only("p_text", "NOT_HAS_PROPERTY") == {empty.pk}


def test_unknown_property_is_refused():
    with pytest.raises(FilterError):
        _filtered("contact", Filter("priority", "EQ", value="high"))


# --- The list pages -----------------------------------------------------------------------


def test_pages_render_with_create_button_and_links(client, super_admin):
    company = Company.objects.create(name="Acme AB", domain="acme.se")
    contact = Contact.objects.create(first_name="Anna", last_name="Berg", email="a@acme.se",
                                     company=company)  # fmt: skip
    deal = Deal.objects.create(name="Big deal", amount=100)
    client.force_login(super_admin)
    for name, record, create in (
        ("contacts", contact, "contact_create"),
        ("companies", company, "company_create"),
        ("deals", deal, "deal_create"),
    ):
        response = client.get(reverse(f"records:{name}"))
        assert response.status_code == 200
        html = response.content.decode()
        assert _ids(html) == [record.pk]
        assert reverse(f"records:{create}") in html
        detail = reverse(f"records:{record._meta.model_name}", args=[record.pk])
        assert f'href="{detail}"' in html
    html = client.get(reverse("records:contacts")).content.decode()
    assert "Anna Berg" in html
    assert "Acme AB" in html
    assert "1 contact" in html


def test_quick_search_and_quick_filters(client, super_admin, agent):
    anna = Contact.objects.create(first_name="Anna", email="anna@x.se", owner=agent)
    Contact.objects.create(first_name="Bo", email="bo@x.se")
    client.force_login(agent)
    assert _ids(client.get(reverse("records:contacts"), {"q": "ann"}).content.decode()) == [anna.pk]
    client.force_login(super_admin)
    html = client.get(reverse("records:contacts"), {"hubspot_owner_id": agent.pk}).content.decode()
    assert _ids(html) == [anna.pk]


def test_quick_search_uses_the_record_search(client, super_admin):
    from svardesk.crm import services as crm

    acme = crm.create_company(actor=None, name="Acme AB", domain="acme.se")
    crm.create_company(actor=None, name="Other", domain="other.se")
    asa = crm.create_contact(
        actor=None, first_name="Åsa", last_name="Ström", emails=["asa@acme.se"]
    )
    crm.create_contact(actor=None, first_name="Bo", emails=["bo@x.se"])
    client.force_login(super_admin)
    contacts, companies = reverse("records:contacts"), reverse("records:companies")
    assert _ids(client.get(contacts, {"q": "asa str"}).content.decode()) == [asa.pk]
    assert _ids(client.get(contacts, {"q": "ASA@acme.se"}).content.decode()) == [asa.pk]
    assert _ids(client.get(companies, {"q": "acme.se"}).content.decode()) == [acme.pk]
    html = client.get(contacts, {"q": "asa", "f": "firstname:EQ:bo"}).content.decode()
    assert _ids(html) == []


def test_advanced_filter_form_adds_condition_and_bad_value_shows_error(client, super_admin):
    client.force_login(super_admin)
    response = client.get(
        reverse("records:deals"), {"add_property": "amount", "add_operator": "GT", "add_value": "5"}
    )
    assert response.status_code == 302
    assert "f=amount%3AGT%3A5" in response["Location"]
    html = client.get(reverse("records:deals"), {"f": "amount:GT:lots"}).content.decode()
    assert "Enter a number" in html
    criteria = client.get(reverse("records:contacts_criteria"), {"add_property": "hs_language"})
    assert "Swedish" in criteria.content.decode()
    acme = Company.objects.create(name="Acme AB")
    html = client.get(reverse("records:contacts"), {"f": f"company:IN:{acme.pk}"}).content.decode()
    assert "Primary company is any of Acme AB" in html


def test_paging_has_no_gaps_or_duplicates_in_every_sort(client, super_admin, settings):
    settings.TICKET_LIST_PAGE_SIZE = 3
    acme = Company.objects.create(name="Acme")
    created = timezone.now()
    for i in range(10):
        contact = Contact.objects.create(
            first_name=["Ann", "Bo", "Cy"][i % 3], last_name=f"L{i % 2}",
            email=f"c{i}@x.se", company=acme if i % 2 else None,
        )  # fmt: skip
        Contact.objects.filter(pk=contact.pk).update(created_at=created - dt.timedelta(hours=i % 4))
    expected = set(Contact.objects.values_list("pk", flat=True))
    client.force_login(super_admin)
    for sort in ("", "firstname", "-lastname", "company", "-company", "createdate", "email"):
        seen: list[int] = []
        params = {"sort": sort} if sort else {}
        url = reverse("records:contacts")
        for _page in range(10):
            html = client.get(url, params).content.decode()
            seen += _ids(html)
            match = re.search(r'after=([\w-]+)" rel="next"', html)
            if not match:
                break
            params = {**({"sort": sort} if sort else {}), "after": match.group(1)}
        assert len(seen) == len(set(seen)) == 10, sort
        assert set(seen) == expected


def test_deal_paging_with_empty_values_in_the_sort(client, super_admin, settings):
    settings.TICKET_LIST_PAGE_SIZE = 2
    for i in range(7):
        Deal.objects.create(
            name=f"D{i % 3}",
            amount=None if i % 3 == 0 else i * 10,
            close_date=None if i % 2 else dt.date(2025, 1, 1 + i % 2),
            custom={"score": i % 2} if i % 4 else {},
        )
    create_property_definition(actor=None, name="score", label="Score",
                               type=PropertyType.NUMBER, object_type="deal")  # fmt: skip
    expected = set(Deal.objects.values_list("pk", flat=True))
    client.force_login(super_admin)
    url = reverse("records:deals")
    for sort in ("amount", "-amount", "closedate", "-closedate", "dealstage", "score", "-score"):
        seen: list[int] = []
        params = {"sort": sort}
        for _page in range(10):
            html = client.get(url, params).content.decode()
            seen += _ids(html)
            match = re.search(r'after=([\w-]+)" rel="next"', html)
            if not match:
                break
            params = {"sort": sort, "after": match.group(1)}
        assert len(seen) == len(set(seen)) == 7, sort
        assert set(seen) == expected


def test_sort_by_column(client, super_admin):
    small = Deal.objects.create(name="b", amount=10)
    big = Deal.objects.create(name="a", amount=1000)
    none = Deal.objects.create(name="c", amount=None)
    client.force_login(super_admin)
    url = reverse("records:deals")
    assert _ids(client.get(url, {"sort": "amount"}).content.decode()) == [none.pk, small.pk, big.pk]
    assert _ids(client.get(url, {"sort": "-amount"}).content.decode()) == [
        big.pk,
        small.pk,
        none.pk,
    ]
    assert _ids(client.get(url, {"sort": "dealname"}).content.decode()) == [
        big.pk,
        small.pk,
        none.pk,
    ]
    html = client.get(url, {"sort": "-amount"}).content.decode()
    assert 'aria-sort="descending"' in html


def test_custom_column_shows_and_sorts(client, super_admin, agent):
    create_property_definition(actor=super_admin, name="score", label="Score",
                               type=PropertyType.NUMBER, object_type="company")  # fmt: skip
    create_property_definition(actor=super_admin, name="account_manager", label="AM",
                               type=PropertyType.USER, object_type="company")  # fmt: skip
    low = Company.objects.create(name="Low", custom={"score": 1, "account_manager": agent.pk})
    high = Company.objects.create(name="High", custom={"score": 9})
    client.force_login(super_admin)
    html = client.get(
        reverse("records:companies"), {"cols": "name,score,account_manager", "sort": "-score"}
    ).content.decode()
    assert _ids(html) == [high.pk, low.pk]
    assert agent.display_name in html


# --- Saved views --------------------------------------------------------------------------


def test_save_view_private_and_shared(client, super_admin, agent):
    anna = Contact.objects.create(first_name="Anna", email="anna@x.se")
    Contact.objects.create(first_name="Bo", email="bo@x.se")
    client.force_login(super_admin)
    response = client.post(
        reverse("records:contacts_view_create"),
        {"name": "Annas", "sharing": Sharing.PRIVATE, "f": "firstname:EQ:anna",
         "sort": "-firstname", "cols": "firstname,email"},
    )  # fmt: skip
    view = CustomView.objects.get(name="Annas")
    assert view.object_type == "contact"
    assert response["Location"] == reverse("records:contacts_view", args=[view.pk])
    html = client.get(response["Location"]).content.decode()
    assert _ids(html) == [anna.pk]
    assert "Annas" in html
    # Another user's private view: not found, and not in their list of views.
    client.force_login(agent)
    assert client.get(reverse("records:contacts_view", args=[view.pk])).status_code == 404
    assert "Annas" not in client.get(reverse("records:contacts")).content.decode()
    # A ticket view of the same id space is not a contact view.
    assert client.get(reverse("records:companies_view", args=[view.pk])).status_code == 404
    # Shared with everyone: the agent sees it.
    client.force_login(super_admin)
    response = client.post(
        reverse("records:contacts_view_edit", args=[view.pk]),
        {"name": "Anna only", "sharing": Sharing.EVERYONE},
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert view.name == "Anna only"
    assert view.filters
    client.force_login(agent)
    html = client.get(reverse("records:contacts_view", args=[view.pk])).content.decode()
    assert _ids(html) == [anna.pk]
    # "Save changes to view": the list's extra filter joins the view's.
    client.force_login(super_admin)
    edit = reverse("records:contacts_view_edit", args=[view.pk])
    form = client.get(edit, {"f": "email:CONTAINS_TOKEN:x.se"}).content.decode()
    assert "Email contains x.se" in form
    client.post(f"{edit}?f=email:CONTAINS_TOKEN:x.se",
                {"name": "Anna only", "sharing": Sharing.EVERYONE, "f": "email:CONTAINS_TOKEN:x.se"})  # fmt: skip
    view.refresh_from_db()
    assert [item["property"] for item in view.filters] == ["firstname", "email"]


def test_delete_view_and_ticket_lists_ignore_contact_views(client, super_admin):
    view = CustomView.objects.create(
        name="Mine", object_type="company", created_by=super_admin, sharing=Sharing.PRIVATE
    )
    client.force_login(super_admin)
    assert client.get(reverse("ticket_views:custom", args=[view.pk])).status_code == 404
    response = client.post(reverse("records:companies_view_delete", args=[view.pk]))
    assert response.status_code == 302
    assert not CustomView.objects.filter(pk=view.pk).exists()


def test_saving_views_needs_the_permission(client, own_agent):
    assert not own_agent.may_manage_views
    client.force_login(own_agent)
    response = client.post(
        reverse("records:contacts_view_create"), {"name": "X", "sharing": Sharing.PRIVATE}
    )
    assert response.status_code == 403
    assert not CustomView.objects.filter(name="X").exists()


# --- Access -------------------------------------------------------------------------------


def test_team_agent_sees_only_records_associated_with_tickets_in_scope(
    client, team_agent, billing_team, support_team
):
    seen = Contact.objects.create(first_name="Seen", email="seen@x.se")
    hidden = Contact.objects.create(first_name="Hidden", email="hidden@x.se")
    seen_co = Company.objects.create(name="SeenCo")
    hidden_co = Company.objects.create(name="HiddenCo")
    seen_deal = Deal.objects.create(name="SeenDeal")
    Deal.objects.create(name="HiddenDeal")
    mine = TicketFactory(team=billing_team, contact=seen)
    TicketFactory(team=support_team, contact=hidden)
    associations.associate("ticket", mine.pk, "company", seen_co.pk)
    associations.associate("ticket", mine.pk, "deal", seen_deal.pk)
    client.force_login(team_agent)
    assert _ids(client.get(reverse("records:contacts")).content.decode()) == [seen.pk]
    assert _ids(client.get(reverse("records:companies")).content.decode()) == [seen_co.pk]
    assert _ids(client.get(reverse("records:deals")).content.decode()) == [seen_deal.pk]
    assert hidden_co.pk
    # A filter cannot reach past the scope.
    html = client.get(reverse("records:contacts"), {"f": f"hs_object_id:EQ:{hidden.pk}"})
    assert _ids(html.content.decode()) == []


def test_lists_need_a_workspace_seat(client, no_seat_user):
    assert client.get(reverse("records:contacts")).status_code == 302  # to the login
    client.force_login(no_seat_user)
    assert client.get(reverse("records:contacts")).status_code == 403


# --- Counts, navigation and language ------------------------------------------------------


def test_count_is_capped(client, super_admin, monkeypatch):
    monkeypatch.setattr(lq, "COUNT_LIMIT", 3)
    Contact.objects.bulk_create(Contact(first_name=f"C{i}", email=f"c{i}@x.se") for i in range(5))
    client.force_login(super_admin)
    html = client.get(reverse("records:contacts")).content.decode()
    assert "3+ contacts" in html


def test_navigation_and_swedish(client, super_admin):
    Contact.objects.create(first_name="Anna", email="anna@x.se")
    super_admin.language = "sv"
    super_admin.save()
    client.force_login(super_admin)
    html = client.get(reverse("records:contacts")).content.decode()
    for url in ("records:contacts", "records:companies", "records:deals"):
        assert f'href="{reverse(url)}"' in html
    assert 'aria-current="page" href="/contacts/"' in html
    assert "Avancerade filter" in html
    assert "Advanced filters" not in html
