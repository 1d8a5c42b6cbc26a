"""What the database itself guarantees about users."""

import pytest
from django.db import IntegrityError, transaction

from svardesk.accounts.models import User


def test_two_users_cannot_share_an_address_in_different_case(db):
    User.objects.create_user("anna@acme.test", "pw-123456789")
    # Saved directly, past the services that lower-case addresses: the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        User(email="Anna@Acme.test").save()
    assert User.objects.get_by_natural_key("ANNA@acme.test").email == "anna@acme.test"
