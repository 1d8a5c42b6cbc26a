"""crm 0007: existing contacts' numbers become E.164 with ContactPhone rows; what does not
parse stays as it was."""

import importlib

import pytest
from django.apps import apps

from svardesk.crm.models import Contact, ContactPhone, CrmSettings

pytestmark = pytest.mark.django_db

migration = importlib.import_module("svardesk.crm.migrations.0007_contact_phones_e164")


def test_numbers_are_normalised_in_batches_and_bad_ones_kept(monkeypatch):
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches with a handful of contacts
    swedish = Contact.objects.create(phone="08-123 456 78", mobile_phone="070 123 45 67")
    foreign = Contact.objects.create(phone="+44 20 7946 0958")
    broken = Contact.objects.create(phone="ring växeln", mobile_phone="0701234567")
    same = Contact.objects.create(phone="0701234567", mobile_phone="070-123 45 67")
    none = Contact.objects.create(first_name="No number")
    done = Contact.objects.create(phone="+46812345678")
    ContactPhone.objects.create(contact=done, number="+46812345678")

    migration.forwards(apps, None)

    def numbers(contact: Contact) -> list[tuple[str, str]]:
        return list(contact.phones.order_by("id").values_list("number", "kind"))

    for contact in (swedish, foreign, broken, same, none, done):
        contact.refresh_from_db()
    assert (swedish.phone, swedish.mobile_phone) == ("+46812345678", "+46701234567")
    assert numbers(swedish) == [("+46812345678", "phone"), ("+46701234567", "mobile")]
    assert numbers(foreign) == [("+442079460958", "phone")]
    assert (broken.phone, broken.mobile_phone) == ("ring växeln", "+46701234567")
    assert numbers(broken) == [("+46701234567", "mobile")]
    assert numbers(same) == [("+46701234567", "phone")]
    assert numbers(none) == []
    assert numbers(done) == [("+46812345678", "phone")]


def test_the_default_region_setting_is_used():
    CrmSettings.objects.update_or_create(pk=1, defaults={"default_phone_region": "US"})
    contact = Contact.objects.create(phone="(650) 253-0000")
    migration.forwards(apps, None)
    contact.refresh_from_db()
    assert contact.phone == "+16502530000"
