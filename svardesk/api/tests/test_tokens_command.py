"""`svardesk create_token`: prints a working token as its last line; clear errors, exit 1."""

from __future__ import annotations

import pytest
from django.core.management import ManagementUtility, call_command

from svardesk.api.models import ApiToken
from svardesk.api.tokens import find_active_token


def _run_cli(argv, capsys):
    """As `svardesk …` runs it: a CommandError becomes a message on stderr and exit code 1."""
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["svardesk", *argv]).execute()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.django_db
def test_create_token_prints_a_token_that_authenticates_as_the_user(capsys, agent):
    call_command(
        "create_token",
        "--user",
        "Agent@Svardesk.test",
        "--name",
        "CI",
        "--scopes",
        "tickets, crm.objects.owners.read",
    )

    out, err = capsys.readouterr()
    raw = out.strip().splitlines()[-1]
    token = find_active_token(raw)
    assert token is not None
    assert token.user == agent
    assert token.name == "CI"
    assert token.scopes == ["crm.objects.owners.read", "tickets"]
    assert token.created_by is None
    assert raw.startswith("pat-sd1-")
    assert "shown only now" in err
    assert raw not in err


# As the command line runs it, the command closes the database connections when done: a
# transactional test, so that no test transaction is open then.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--user", "nobody@svardesk.test", "--name", "CI", "--scopes", "tickets"],
            "No user with the email address nobody@svardesk.test.",
            id="unknown-user",
        ),
        pytest.param(
            ["--user", "agent@svardesk.test", "--name", "CI", "--scopes", "tickets,crm.all"],
            "Unknown scopes: crm.all. Choose from: tickets, crm.objects.contacts.read",
            id="unknown-scope",
        ),
        pytest.param(
            ["--user", "agent@svardesk.test", "--name", "CI", "--scopes", ","],
            "Choose at least one scope.",
            id="no-scope",
        ),
        pytest.param(
            ["--user", "agent@svardesk.test", "--name", "  ", "--scopes", "tickets"],
            "Give the private app a name.",
            id="blank-name",
        ),
        pytest.param(
            ["--user", "viewer@svardesk.test", "--name", "CI", "--scopes", "tickets"],
            "A token acts as a user who may use the help desk",
            id="no-seat",
        ),
    ],
)
def test_create_token_explains_what_is_wrong_and_exits_1(
    capsys, agent, no_seat_user, argv, message
):
    code, out, err = _run_cli(["create_token", *argv], capsys)

    assert code == 1
    assert message in err
    assert out == ""
    assert not ApiToken.objects.exists()


def test_create_token_needs_all_three_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["svardesk", "create_token", "--user", "a@b.test"]).execute()

    assert exit_info.value.code == 2  # argparse's usage error
    assert "--name" in capsys.readouterr().err
