"""Existing contacts' phone and mobile phone numbers in E.164, each also a ContactPhone row
(what search compares with). Read in the account's default phone region (Sweden unless
set); a value that does not parse as a valid number is kept as it was and gets no row.
In batches of 2,000 contacts by id, so 1,000,000 contacts never sit in memory."""

import phonenumbers
from django.db import migrations
from django.db.models import Q

BATCH = 2_000


def _e164(raw: str, region: str) -> str | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def forwards(apps, schema_editor):
    Contact = apps.get_model("crm", "Contact")
    ContactPhone = apps.get_model("crm", "ContactPhone")
    CrmSettings = apps.get_model("crm", "CrmSettings")
    settings_row = CrmSettings.objects.order_by("pk").first()
    region = (settings_row.default_phone_region if settings_row else "") or "SE"
    with_numbers = Contact.objects.filter(~Q(phone="") | ~Q(mobile_phone="")).order_by("pk")
    last = 0
    while True:
        rows = list(
            with_numbers.filter(pk__gt=last).values_list("pk", "phone", "mobile_phone")[:BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        changed = []
        phones = []
        for pk, phone, mobile in rows:
            new_phone, new_mobile = _e164(phone, region), _e164(mobile, region)
            if new_phone:
                phones.append(ContactPhone(contact_id=pk, number=new_phone, kind="phone"))
            if new_mobile and new_mobile != new_phone:
                phones.append(ContactPhone(contact_id=pk, number=new_mobile, kind="mobile"))
            if (new_phone or phone) != phone or (new_mobile or mobile) != mobile:
                changed.append(
                    Contact(pk=pk, phone=new_phone or phone, mobile_phone=new_mobile or mobile)
                )
        if changed:
            Contact.objects.bulk_update(changed, ["phone", "mobile_phone"], batch_size=500)
        ContactPhone.objects.bulk_create(phones, ignore_conflicts=True, batch_size=1_000)


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_list_sort_indexes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
