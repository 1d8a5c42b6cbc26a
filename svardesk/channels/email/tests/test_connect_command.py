"""`svardesk connect_email`, `svardesk smtp_receiver` and `svardesk serve --smtp-port`: the
scripted set-up, run in-process and as the real command line."""

import io
import logging
import os
import smtplib
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from svardesk.channels.email.models import EmailChannel
from svardesk.conversations.models import Channel, ChannelKind, InboxKind
from svardesk.core.crypto import decrypt_secret
from tests.mail_server import free_port

SVARDESK = [sys.executable, "-m", "svardesk"]
PASSWORD = "s3cret-imap-Passw0rd"


def cli(args, *, env, **kwargs):
    """Run a command line of our own (fixed arguments, no shell)."""
    return subprocess.run(args, env=env, check=True, **kwargs)  # noqa: S603


def spawn(args, *, env, **kwargs):
    return subprocess.Popen(args, env=env, **kwargs)  # noqa: S603


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("connect_email", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_connect_prints_just_the_channel_id(db):
    out, err = run("Support@Acme.example")
    channel = Channel.objects.get()
    assert out == f"{channel.pk}\n"
    assert err == ""
    assert channel.kind == ChannelKind.EMAIL
    assert channel.is_active
    assert channel.inbox.kind == InboxKind.HELP_DESK
    email_channel = EmailChannel.objects.get(channel=channel)
    assert email_channel.address == "support@acme.example"
    assert email_channel.imap_host == ""
    assert email_channel.http_token_hash == ""  # no token unless asked for


def test_imap_password_comes_from_the_environment_and_is_stored_encrypted(db, monkeypatch, caplog):
    monkeypatch.setenv("SUPPORT_IMAP_PASSWORD", PASSWORD)
    caplog.set_level(logging.DEBUG)
    out, err = run(
        "support@acme.example",
        "--imap-host",
        "imap.acme.example",
        "--imap-user",
        "support",
        "--imap-password-env",
        "SUPPORT_IMAP_PASSWORD",
        "--imap-folder",
        "Help desk",
    )
    email_channel = EmailChannel.objects.get()
    assert (email_channel.imap_port, email_channel.imap_use_tls) == (993, True)
    assert email_channel.imap_folder == "Help desk"
    assert decrypt_secret(email_channel.imap_password_encrypted) == PASSWORD
    # Never in plain text: not in any column of the row, not on the terminal, not in the logs.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM email_channel_emailchannel")
        row = cursor.fetchone()
    assert not any(PASSWORD in str(value) for value in row)
    assert PASSWORD not in out + err
    assert PASSWORD not in caplog.text


def test_imap_no_tls_defaults_to_port_143(db, monkeypatch):
    monkeypatch.setenv("PW", PASSWORD)
    run(
        "support@acme.example",
        "--imap-host",
        "localhost",
        "--imap-user",
        "u",
        "--imap-password-env",
        "PW",
        "--imap-no-tls",
    )
    email_channel = EmailChannel.objects.get()
    assert (email_channel.imap_port, email_channel.imap_use_tls) == (143, False)


def test_a_missing_password_variable_is_an_error_and_connects_nothing(db, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(CommandError, match="NOT_SET_ANYWHERE"):
        run(
            "support@acme.example",
            "--imap-host",
            "h",
            "--imap-user",
            "u",
            "--imap-password-env",
            "NOT_SET_ANYWHERE",
        )
    assert not Channel.objects.exists()


def test_an_imap_host_without_a_password_is_refused(db):
    with pytest.raises(CommandError, match="IMAP password"):
        run("support@acme.example", "--imap-host", "h", "--imap-user", "u")
    assert not Channel.objects.exists()


def test_connecting_a_connected_address_again_is_refused(db):
    run("support@acme.example")
    with pytest.raises(CommandError, match="already connected"):
        run("SUPPORT@acme.example")
    assert Channel.objects.count() == 1


def test_print_http_token_writes_it_once_on_stderr(db):
    out, err = run("support@acme.example", "--print-http-token")
    assert out.strip().isdigit()
    token = err.split(": ", 1)[1].strip()
    from svardesk.channels.email.channel_queries import channel_for_http_token

    assert channel_for_http_token(int(out), token) is not None


# --- The real command line ---------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(SVARDESK_DATA_DIR=str(tmp_path), SVARDESK_LOG_LEVEL="warning")
    cli([*SVARDESK, "migrate", "-v0"], env=env)
    return env


def _wait_for_port(port, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the process exited with {process.returncode}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                probe.noop()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"nothing listened on port {port}")


def _wait_for_web(port, process, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as r:
                return r.status
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the web server did not answer on port {port}")


def _count_inbound(env):
    script = (
        "import django; django.setup();"
        "from svardesk.channels.email.models import InboundEmail;"
        "print(InboundEmail.objects.count())"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "svardesk.config.settings"}
    result = cli([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    return int(result.stdout.strip())


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def test_cli_connect_then_the_standalone_receiver_takes_mail(cli_env):
    env = {**cli_env, "SUPPORT_PW": PASSWORD}
    result = cli(
        [*SVARDESK, "connect_email", "support@acme.example"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().isdigit()
    assert result.stdout == result.stdout.strip() + "\n"

    port = free_port()
    receiver = spawn(
        [*SVARDESK, "smtp_receiver", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, receiver)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(
                "kim@customer.example",
                ["support@acme.example"],
                b"From: kim@customer.example\r\nTo: support@acme.example\r\n"
                b"Subject: Hello\r\nMessage-ID: <cli@customer.example>\r\n\r\nHi\r\n",
            )
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail(
                    "kim@customer.example", ["sales@acme.example"], b"Subject: x\r\n\r\nx"
                )
    finally:
        _stop(receiver)
    assert receiver.returncode == 0  # SIGTERM is a clean stop
    assert _count_inbound(env) == 1


def test_serve_starts_the_smtp_receiver_on_the_given_port(cli_env):
    cli([*SVARDESK, "connect_email", "support@acme.example"], env=cli_env)
    web_port, smtp_port = free_port(), free_port()
    served = spawn(
        [
            *SVARDESK,
            "serve",
            "--port",
            str(web_port),
            "--smtp-port",
            str(smtp_port),
            "--no-worker",
            "--no-migrate",
        ],
        env=cli_env,
    )
    try:
        _wait_for_port(smtp_port, served)
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.sendmail(
                "kim@customer.example",
                ["support@acme.example"],
                b"From: kim@customer.example\r\nSubject: Via serve\r\n"
                b"Message-ID: <serve@customer.example>\r\n\r\nHi\r\n",
            )
        # The web server runs beside it (uvicorn starts after the receiver).
        assert _wait_for_web(web_port, served) == 200
    finally:
        _stop(served)
    assert _count_inbound(cli_env) == 1


def test_serve_no_smtp_leaves_the_port_closed(cli_env):
    web_port, smtp_port = free_port(), free_port()
    served = spawn(
        [
            *SVARDESK,
            "serve",
            "--port",
            str(web_port),
            "--smtp-port",
            str(smtp_port),
            "--no-smtp",
            "--no-worker",
            "--no-migrate",
        ],
        env=cli_env,
    )
    try:
        assert _wait_for_web(web_port, served) == 200
        with pytest.raises(ConnectionRefusedError):
            smtplib.SMTP("127.0.0.1", smtp_port, timeout=2)
    finally:
        _stop(served)
