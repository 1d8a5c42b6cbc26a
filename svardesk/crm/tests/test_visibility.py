"""Who sees which records (tickets.queries.visible_contacts / visible_companies /
visible_deals): super admins and "all tickets" users every record; team- and own-scoped
agents only records associated with a ticket in their scope; merged-away records never."""

import pytest

from svardesk.crm import services
from svardesk.tickets import queries
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

VISIBLE = {
    "contact": queries.visible_contacts,
    "company": queries.visible_companies,
    "deal": queries.visible_deals,
}


@pytest.fixture
def records(super_admin, support_team, billing_team, own_agent):  # type: ignore[no-untyped-def]
    """For each record type: one associated with a Support ticket, one with a Billing ticket,
    one with the own agent's ticket, one with no ticket, and (contacts and companies) one
    merged away after being put on the Billing ticket."""
    tickets = {
        "support": TicketFactory(name="Support's", team=support_team),
        "billing": TicketFactory(name="Billing's", team=billing_team),
        "owned": TicketFactory(name="Olle's", owner=own_agent),
    }
    made: dict[str, dict[str, int]] = {}
    for object_type in VISIBLE:
        made[object_type] = {}
        for key in ("support", "billing", "owned", "loose", "merged"):
            if object_type == "contact":
                record = services.create_contact(actor=super_admin, first_name=key)
            elif object_type == "company":
                record = services.create_company(actor=super_admin, name=key)
            else:
                if key == "merged":
                    continue
                record = services.create_deal(actor=super_admin, name=key)
            made[object_type][key] = record.pk
            ticket = tickets.get("billing" if key == "merged" else key)
            if ticket is not None:
                services.associate_records(
                    actor=super_admin,
                    from_type="ticket",
                    from_id=ticket.pk,
                    to_type=object_type,
                    to_id=record.pk,
                )
    from svardesk.crm.models import Company, Contact

    services.merge_contacts(
        actor=super_admin,
        primary=Contact.objects.get(pk=made["contact"]["loose"]),
        other=Contact.objects.get(pk=made["contact"]["merged"]),
    )
    services.merge_companies(
        actor=super_admin,
        primary=Company.objects.get(pk=made["company"]["loose"]),
        other=Company.objects.get(pk=made["company"]["merged"]),
    )
    return made


@pytest.mark.parametrize("object_type", ["contact", "company", "deal"])
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        pytest.param("super_admin", {"support", "billing", "owned", "loose"}, id="super-admin"),
        pytest.param("agent", {"support", "billing", "owned", "loose"}, id="all-tickets"),
        # The loose contact/company took the merged one's Billing ticket in the merge.
        pytest.param("team_agent", {"billing", "loose"}, id="team-scope"),
        pytest.param("own_agent", {"owned"}, id="own-scope"),
    ],
)
def test_visible_records_follow_ticket_access(request, records, object_type, who, expected):
    user = request.getfixturevalue(who)
    ids = set(VISIBLE[object_type](user).values_list("pk", flat=True))
    names = {key for key, pk in records[object_type].items() if pk in ids}
    if object_type == "deal" and who == "team_agent":
        expected = {"billing"}  # deals are not merged: the loose one stays on no ticket
    assert names == expected


def test_a_scoped_agent_loses_a_record_when_its_ticket_association_goes(
    records, team_agent, super_admin
):
    billing_ticket = TicketFactory(name="Another billing", team=team_agent.teams.first())
    deal = services.create_deal(actor=super_admin, name="Only here")
    services.associate_records(
        actor=super_admin,
        from_type="deal",
        from_id=deal.pk,
        to_type="ticket",
        to_id=billing_ticket.pk,
    )
    assert queries.visible_deals(team_agent).filter(pk=deal.pk).exists()
    services.dissociate_records(
        actor=super_admin,
        from_type="ticket",
        from_id=billing_ticket.pk,
        to_type="deal",
        to_id=deal.pk,
    )
    assert not queries.visible_deals(team_agent).filter(pk=deal.pk).exists()
