"""Fixtures every test may use: the people of a small help desk."""

import os

import pytest

# Playwright's sync API keeps an event loop in the test thread; the ORM calls the browser
# tests make between page actions are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Property-based tests explore new examples on every local run; CI (CI=true) runs a fixed,
# derandomised set so a landing is reproducible. A failure found locally is kept in
# .hypothesis/ and replayed first until it is fixed.
from hypothesis import settings as hypothesis_settings

hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from svardesk.core.local_cache import clear_local_cache

    cache.clear()
    clear_local_cache()
    yield
    cache.clear()
    clear_local_cache()


@pytest.fixture
def support_team(db):
    from tests.factories import TeamFactory

    return TeamFactory(name="Support")


@pytest.fixture
def billing_team(db):
    from tests.factories import TeamFactory

    return TeamFactory(name="Billing")


@pytest.fixture
def super_admin(db):
    from tests.factories import UserFactory

    return UserFactory(
        email="admin@svardesk.test",
        is_superuser=True,
        has_seat=False,
        first_name="Ada",
        last_name="Admin",
    )


@pytest.fixture
def agent(db, support_team):
    from tests.factories import UserFactory

    return UserFactory(
        email="agent@svardesk.test", first_name="Anna", last_name="Agent", teams=[support_team]
    )


@pytest.fixture
def team_agent(db, billing_team):
    """An agent who sees only the Billing team's tickets and their own."""
    from tests.factories import UserFactory

    return UserFactory(
        email="billing@svardesk.test",
        first_name="Bo",
        last_name="Billing",
        ticket_access="team",
        teams=[billing_team],
    )


@pytest.fixture
def own_agent(db):
    from tests.factories import UserFactory

    return UserFactory(
        email="own@svardesk.test", first_name="Olle", last_name="Own", ticket_access="own"
    )


@pytest.fixture
def no_seat_user(db):
    from tests.factories import UserFactory

    return UserFactory(email="viewer@svardesk.test", has_seat=False)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server; Django's outbound mail goes to it during the test."""
    from tests.mail_server import SmtpServer

    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def redis_layer(settings):  # type: ignore[no-untyped-def]
    """The Redis channel layer at 127.0.0.1:6379, with a prefix of this test's own."""
    import uuid

    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": ["redis://127.0.0.1:6379/0"],
                "prefix": f"svardesk-test-{uuid.uuid4().hex[:8]}",
            },
        }
    }
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools(django_db_setup, django_db_blocker):
    """PostgreSQL runs with a connection pool (settings): close it before the test database
    is dropped, or the drop finds the pool's connections still open."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    # The session's browser (tests/browser/conftest.py) keeps Playwright's event loop running
    # in the test thread from the first browser test on, and asyncio-based tests after it
    # fail: tests using the browser run last, wherever they live (a stable sort).
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
    # One Playwright per session: a `browser` fixture imported into another conftest or module
    # is a second session fixture, whose start fails inside the first one's event loop.
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.get("browser") if info else None
        if definitions and definitions[-1].baseid != "tests/browser":
            raise pytest.UsageError(
                f"{item.nodeid}: browser tests live in tests/browser/ and use its fixtures"
            )
