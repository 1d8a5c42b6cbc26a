"""Association invariants under any sequence of changes (hypothesis): a contact has at most
one primary company and `Contact.company` mirrors it; a ticket has at most one primary
contact; every labelled row has its unlabelled row; removing an association leaves no label
of the pair; merges keep all of it."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svardesk.crm import associations, services
from svardesk.crm.models import Association, Contact
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

N = 3  # records of each kind

operation = st.one_of(
    st.tuples(
        st.just("contact-company"),
        st.integers(0, N - 1),
        st.integers(0, N - 1),
        st.booleans(),
    ),
    st.tuples(
        st.just("ticket-contact"),
        st.integers(0, N - 1),
        st.integers(0, N - 1),
        st.booleans(),
    ),
    st.tuples(
        st.just("dissociate-company"), st.integers(0, N - 1), st.integers(0, N - 1), st.just(False)
    ),
    st.tuples(
        st.just("dissociate-contact"), st.integers(0, N - 1), st.integers(0, N - 1), st.just(False)
    ),
    st.tuples(
        st.just("set-company"), st.integers(0, N - 1), st.integers(-1, N - 1), st.just(False)
    ),
    st.tuples(st.just("merge"), st.integers(0, N - 1), st.integers(0, N - 1), st.just(False)),
)


def _check_invariants() -> None:
    rows = list(
        Association.objects.values_list("from_type", "from_id", "to_type", "to_id", "label")
    )
    unlabelled = {r[:4] for r in rows if r[4] == ""}
    for row in rows:
        if row[4] == "primary":
            assert row[:4] in unlabelled, f"primary without its association: {row}"
    primaries: dict[tuple[str, int, str], int] = {}
    for from_type, from_id, to_type, _to_id, label in rows:
        if label == "primary":
            key = (from_type, from_id, to_type)
            primaries[key] = primaries.get(key, 0) + 1
    assert all(count == 1 for count in primaries.values()), primaries
    for contact in Contact.objects.all():
        assert contact.company_id == associations.primary_id("contact", contact.pk, "company")
        if contact.merged_into_id is not None:
            assert not Association.objects.filter(to_type="contact", to_id=contact.pk).exists()
            assert not Association.objects.filter(from_type="contact", from_id=contact.pk).exists()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(operations=st.lists(operation, max_size=12))
def test_invariants_hold_after_any_changes(agent, operations):
    with transaction.atomic():
        contacts = [services.create_contact(actor=agent, first_name=f"C{i}") for i in range(N)]
        companies = [services.create_company(actor=agent, name=f"Co{i}") for i in range(N)]
        tickets = [TicketFactory(contact=None) for _ in range(N)]
        for kind, a, b, primary in operations:
            contact = Contact.objects.get(pk=contacts[a].pk)
            if contact.merged_into_id is not None:
                continue
            if kind == "contact-company":
                services.associate_records(
                    actor=agent,
                    from_type="contact",
                    from_id=contact.pk,
                    to_type="company",
                    to_id=companies[b].pk,
                    primary=primary,
                )
            elif kind == "ticket-contact":
                services.associate_records(
                    actor=agent,
                    from_type="ticket",
                    from_id=tickets[b].pk,
                    to_type="contact",
                    to_id=contact.pk,
                    primary=primary,
                )
            elif kind == "dissociate-company":
                services.dissociate_records(
                    actor=agent,
                    from_type="company",
                    from_id=companies[b].pk,
                    to_type="contact",
                    to_id=contact.pk,
                )
                assert not Association.objects.filter(
                    from_type="contact",
                    from_id=contact.pk,
                    to_type="company",
                    to_id=companies[b].pk,
                ).exists()
            elif kind == "dissociate-contact":
                services.dissociate_records(
                    actor=agent,
                    from_type="contact",
                    from_id=contact.pk,
                    to_type="ticket",
                    to_id=tickets[b].pk,
                )
            elif kind == "set-company":
                services.update_contact(
                    contact, actor=agent, company_id=companies[b].pk if b >= 0 else None
                )
            elif kind == "merge":
                other = Contact.objects.get(pk=contacts[b].pk)
                if other.pk != contact.pk and other.merged_into_id is None:
                    services.merge_contacts(actor=agent, primary=contact, other=other)
            _check_invariants()
        transaction.set_rollback(True)
