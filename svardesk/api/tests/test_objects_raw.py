"""The objects endpoints over plain HTTP: what the SDK does not send, exact bytes and the
archived reads."""

import pytest

from svardesk.crm.models import Contact
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_values_are_strings_and_lists_may_be_comma_separated(raw_api):
    ticket = TicketFactory(name="Strings", priority="LOW")
    answer = raw_api.get(
        f"/crm/v3/objects/tickets/{ticket.pk}?properties=subject,hs_ticket_priority"
        "&properties=hs_is_closed&archived=FALSE",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json;charset=utf-8"
    props = answer.body["properties"]
    assert props["subject"] == "Strings"
    assert props["hs_ticket_priority"] == "LOW"
    assert props["hs_is_closed"] == "false"
    assert props["hs_object_id"] == str(ticket.pk)
    assert answer.body["createdAt"].endswith("Z")
    assert len(answer.body["createdAt"]) == len("2024-05-01T10:00:00.000Z")


def test_an_unknown_object_type_or_batch_action_is_404(raw_api):
    assert raw_api.get("/crm/v3/objects/lines").status == 404
    assert raw_api.post("/crm/v3/objects/tickets/batch/explode", {"inputs": []}).status == 404
    assert raw_api.post("/crm/v3/objects/tickets/gdpr-delete", {"objectId": "1"}).status == 404


def test_a_bad_cursor_or_id_property_is_a_validation_error(raw_api):
    assert raw_api.get("/crm/v3/objects/tickets?after=abc").status == 400
    answer = raw_api.get("/crm/v3/objects/tickets/1?idProperty=subject")
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"


def test_no_token_is_401(raw_api):
    answer = raw_api.get("/crm/v3/objects/contacts", token=None)
    assert answer.status == 401
    assert answer.body["category"] == "INVALID_AUTHENTICATION"


def test_batch_read_of_archived_ids_returns_tombstones(raw_api):
    tickets = [TicketFactory(name=f"Gone {i}") for i in range(2)]
    raw_api.post(
        "/crm/v3/objects/tickets/batch/archive", {"inputs": [{"id": str(t.pk)} for t in tickets]}
    )
    answer = raw_api.post(
        "/crm/v3/objects/tickets/batch/read?archived=true",
        {"inputs": [{"id": str(tickets[0].pk)}, {"id": "424242"}], "properties": ["subject"]},
    )
    assert answer.status == 207
    assert [
        (r["id"], r["archived"], r["properties"]["subject"]) for r in answer.body["results"]
    ] == [(str(tickets[0].pk), True, "Gone 0")]
    assert answer.body["errors"][0]["context"] == {"ids": ["424242"]}


def test_a_restricted_agent_sees_only_archived_tickets_of_their_scope(
    raw_api, live_server, make_token, team_agent
):
    from svardesk.teams.models import Team

    from .conftest import RawApi

    mine = TicketFactory(team=Team.objects.get(name="Billing"))
    theirs = TicketFactory()
    contact = ContactFactory()
    raw_api.delete(f"/crm/v3/objects/tickets/{mine.pk}")
    raw_api.delete(f"/crm/v3/objects/tickets/{theirs.pk}")
    raw_api.delete(f"/crm/v3/objects/contacts/{contact.pk}")
    agent_api = RawApi(live_server.url, make_token(team_agent))
    listed = agent_api.get("/crm/v3/objects/tickets?archived=true")
    assert [r["id"] for r in listed.body["results"]] == [str(mine.pk)]
    assert agent_api.get(f"/crm/v3/objects/tickets/{theirs.pk}?archived=true").status == 404
    assert agent_api.get("/crm/v3/objects/contacts?archived=true").body["results"] == []
    admin_list = raw_api.get("/crm/v3/objects/contacts?archived=true")
    assert [r["id"] for r in admin_list.body["results"]] == [str(contact.pk)]


def test_a_contacts_company_text_is_kept_as_its_company_name(raw_api):
    answer = raw_api.post(
        "/crm/v3/objects/0-1", {"properties": {"firstname": "Ann", "company": "Acme Inc"}}
    )
    assert answer.status == 201, answer.body
    assert Contact.objects.get(pk=answer.body["id"]).company_name == "Acme Inc"


def test_a_request_body_that_is_not_json_is_a_validation_error(raw_api):
    answer = raw_api.request("POST", "/crm/v3/objects/tickets", data=b"{nope")
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
    answer = raw_api.post("/crm/v3/objects/tickets", {"properties": {"subject": ["a list"]}})
    assert answer.status == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/crm/v3/objects/tickets", b'{"properties": {"subject": "\\udbb0"}}'),
        ("/crm/v3/objects/tickets", b'{"properties": {"\\udbb0": "x"}}'),
        ("/crm/v3/objects/tickets/batch/read", b'{"inputs": [{"id": "\\udbb0"}]}'),
        ("/crm/v3/objects/contacts/batch/update", b'{"inputs": [{"id": "1", "idProperty": "\\udbb0"}]}'),
        ("/crm/v3/objects/contacts/gdpr-delete", b'{"objectId": "\\udbb0", "idProperty": "email"}'),
    ],
    ids=["value", "name", "batch-id", "id-property", "gdpr"],
)  # fmt: skip
def test_text_no_database_stores_is_refused_not_a_server_error(raw_api, path, body):
    answer = raw_api.request("POST", path, data=body)
    assert answer.status in (400, 404)
    assert answer.body["category"] in ("VALIDATION_ERROR", "OBJECT_NOT_FOUND")
