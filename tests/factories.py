"""factory_boy factories shared by every app's tests."""

import factory
from django.utils import timezone

from svardesk.accounts.models import User
from svardesk.crm import associations
from svardesk.crm.models import Contact
from svardesk.teams.models import Team
from svardesk.tickets.models import Pipeline, Priority, Stage, Ticket


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@svardesk.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    has_seat = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if not create:
            return
        from svardesk.accounts.services import set_user_teams

        teams = list(extracted or [])
        set_user_teams(self, actor=None, primary_team=teams[0] if teams else None, teams=teams)
        self.save()


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


def default_pipeline() -> Pipeline:
    # Created by a data migration; transactional tests flush it, so make it again if needed.
    from svardesk.tickets.services import ensure_default_create_form, ensure_default_pipeline

    ensure_default_create_form()
    return ensure_default_pipeline()


def stage_named(name: str) -> Stage:
    return Stage.objects.get(pipeline=default_pipeline(), name=name)


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    name = factory.Sequence(lambda n: f"Ticket {n}")
    pipeline = factory.LazyFunction(default_pipeline)
    stage = factory.LazyFunction(lambda: stage_named("New"))
    priority = Priority.MEDIUM
    is_open = factory.LazyAttribute(lambda t: not t.stage.is_closed)
    last_activity_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def _associate_contact(obj: Ticket, create: bool, extracted: object, **kwargs: object) -> None:
        # As tickets.services does: the contact becomes the ticket's primary contact.
        if create and obj.contact_id:
            associations.link_ticket_contacts([(obj.pk, obj.contact_id)])
