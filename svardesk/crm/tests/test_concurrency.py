"""Several workers seeing one new sender at once make one contact (the unique address key
and INSERT … ON CONFLICT DO NOTHING RETURNING; the losers use the winner's contact)."""

import threading

import pytest
from django.db import connection, connections, transaction

from svardesk.crm import services
from svardesk.crm.models import Contact, ContactEmail

WORKERS = 4
ROUNDS = 5


def _race(address: str) -> tuple[list[int], list[BaseException]]:
    """WORKERS threads find or create the contact for one new address at the same moment."""
    barrier = threading.Barrier(WORKERS)
    found: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                contact = services.find_or_create_contact_for_address(address, name="Ra Ce")
            found.append(contact.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_new_senders_make_one_contact_each():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("an in-memory SQLite test database is not shared between threads")
    for round_number in range(ROUNDS):
        address = f"race{round_number}@kund.example"
        found, errors = _race(address)
        assert errors == []
        assert len(found) == WORKERS
        owner = ContactEmail.objects.get(email_key=address).contact_id
        assert set(found) == {owner}
    assert Contact.objects.count() == ROUNDS
