"""How mail gets in and out, against real servers: the built-in SMTP receiver (smtplib → aiosmtpd),
IMAP polling (Debian's dovecot), the raw-MIME HTTP endpoint, and outbound SMTP."""

import datetime as dt
import imaplib
import smtplib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

import pytest
from django.core.mail import EmailMessage as DjangoEmailMessage
from django.test import Client
from django.urls import reverse

from svardesk.channels.email import imap, services, smtp_receiver
from svardesk.channels.email.models import EmailChannel, InboundEmail
from svardesk.channels.email.outbound import smtp_connection_for
from svardesk.channels.email.smtp_receiver import make_controller
from svardesk.core.crypto import decrypt_secret
from svardesk.tickets.models import Ticket
from tests.factories import default_pipeline
from tests.imap_server import ImapServer
from tests.mail_server import SmtpServer, free_port

SUPPORT = "support@acme.example"
BILLING = "billing@acme.example"
IMAP_PASSWORD = "imap secret 1"


def make_mail(*, to=SUPPORT, subject="Printer on fire", message_id=None, body="Help!\n"):
    msg = EmailMessage()
    msg["From"] = "Kim Customer <kim@customer.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate()
    msg["Message-ID"] = message_id or make_msgid(domain="customer.example")
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP)


@pytest.fixture
def tasks_now(transactional_db):
    """Processing runs as soon as it is enqueued (after the raw message's commit), so the
    ticket exists by the time the way in has answered."""
    from huey.contrib.djhuey import HUEY

    default_pipeline()
    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


def tickets():
    return sorted(Ticket.objects.values_list("name", flat=True))


def connect(address=SUPPORT, **kwargs):
    return services.connect_email_channel(actor=None, address=address, **kwargs)


def stored(channel=None, via=None):
    rows = InboundEmail.objects.all()
    if channel is not None:
        rows = rows.filter(channel=channel)
    if via is not None:
        rows = rows.filter(via=via)
    return rows


# --- Built-in SMTP receiver ----------------------------------------------------------------------


@pytest.fixture
def receiver(tasks_now):
    controller = make_controller(host="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def smtp_to(receiver):
    return smtplib.SMTP(receiver.hostname, receiver.port, timeout=10)


def test_smtp_accepts_mail_for_a_connected_address_and_stores_it_before_answering(receiver):
    channel = connect().channel
    raw = make_mail(message_id="<first@customer.example>")
    with smtp_to(receiver) as client:
        refused = client.sendmail("kim@customer.example", [SUPPORT], raw)
    assert refused == {}
    # The 250 came back, so the raw message is already stored (no waiting).
    inbound = stored(channel).get()
    assert inbound.via == "smtp"
    assert inbound.message_id == "<first@customer.example>"
    # As it arrived, below the envelope sender the receiver stamps on it.
    assert bytes(inbound.raw).replace(b"\r\n", b"\n") == (
        b"Return-Path: <kim@customer.example>\n" + raw.replace(b"\r\n", b"\n")
    )
    assert tickets() == ["Printer on fire"]


def test_smtp_refuses_unconnected_and_disconnected_addresses_with_550(receiver):
    gone = connect(BILLING).channel
    services.disconnect_email_channel(gone, actor=None)
    for address in ("nobody@acme.example", BILLING):
        with smtp_to(receiver) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            client.sendmail("kim@customer.example", [address], make_mail(to=address))
        assert caught.value.recipients[address][0] == 550
    assert not stored().exists()


def test_smtp_matches_the_address_case_insensitively(receiver):
    channel = connect().channel
    with smtp_to(receiver) as client:
        client.sendmail("kim@customer.example", ["Support@ACME.example"], make_mail())
    assert stored(channel).count() == 1


def test_one_message_to_two_connected_addresses_is_stored_once_per_channel(receiver):
    support, billing = connect().channel, connect(BILLING).channel
    raw = make_mail(to=f"{SUPPORT}, {BILLING}, someone@else.example")
    with smtp_to(receiver) as client:
        refused = client.sendmail(
            "kim@customer.example", [SUPPORT, BILLING, "someone@else.example"], raw
        )
    assert list(refused) == ["someone@else.example"]
    assert stored(support).count() == 1
    assert stored(billing).count() == 1


def test_the_same_message_sent_twice_is_stored_once(receiver):
    channel = connect().channel
    raw = make_mail(message_id="<resent@customer.example>")
    for _attempt in range(2):
        with smtp_to(receiver) as client:
            client.sendmail("kim@customer.example", [SUPPORT], raw)
    assert stored(channel).count() == 1
    assert tickets() == ["Printer on fire"]


def test_smtp_refuses_a_message_over_the_size_limit_with_552(transactional_db, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 20_000
    channel = connect().channel
    controller = make_controller(host="127.0.0.1", port=free_port())
    controller.start()
    try:
        big = make_mail(body="x" * 70 + "\n" * 1 + ("y" * 76 + "\n") * 400)
        # A client that announces the size is refused at MAIL FROM...
        with smtplib.SMTP("127.0.0.1", controller.port) as client:
            client.ehlo()
            assert client.has_extn("size")
            assert int(client.esmtp_features["size"]) == 20_000
            with pytest.raises(smtplib.SMTPSenderRefused) as announced:
                client.sendmail("kim@customer.example", [SUPPORT], big)
        assert announced.value.smtp_code == 552
        # ...and one that does not is refused after DATA.
        with smtplib.SMTP("127.0.0.1", controller.port) as client:
            client.ehlo()
            client.mail("kim@customer.example")
            client.rcpt(SUPPORT)
            code, _text = client.data(big)
        assert code == 552
        # A message under the limit still gets in.
        with smtplib.SMTP("127.0.0.1", controller.port) as client:
            client.sendmail("kim@customer.example", [SUPPORT], make_mail())
    finally:
        controller.stop()
    assert stored(channel).count() == 1


def test_a_failure_to_store_answers_451_so_the_sender_retries(receiver, monkeypatch):
    connect()

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(smtp_receiver, "receive_raw_email", broken)
    with smtp_to(receiver) as client, pytest.raises(smtplib.SMTPDataError) as caught:
        client.sendmail("kim@customer.example", [SUPPORT], make_mail())
    assert caught.value.smtp_code == 451
    assert not stored().exists()


# --- IMAP polling against dovecot --------------------------------------------------------------


@pytest.fixture
def dovecot():
    server = ImapServer(password=IMAP_PASSWORD).start()
    yield server
    server.cleanup()


@pytest.fixture
def dovecot_without_seen():
    server = ImapServer(password=IMAP_PASSWORD, deny_seen_flag=True).start()
    yield server
    server.cleanup()


def imap_channel(server, *, folder="INBOX", address=SUPPORT):
    return connect(
        address,
        imap=services.ImapSettings(
            host=server.host,
            port=server.port,
            use_tls=server.tls,
            user=server.user,
            password=server.password,
            folder=folder,
        ),
    ).channel


def fresh(channel):
    return EmailChannel.objects.get(pk=channel.pk)


def test_poll_stores_new_messages_advances_the_uid_and_flags_them_seen(tasks_now, dovecot):
    uids = [dovecot.append(make_mail(subject=f"Question {n}")) for n in range(3)]
    channel = imap_channel(dovecot)

    result = imap.poll_channel(channel.pk)

    assert result.stored == 3
    assert stored(channel, via="imap").count() == 3
    channel = fresh(channel)
    assert channel.imap_last_uid == max(uids)
    assert channel.imap_uidvalidity == dovecot.uidvalidity()
    assert channel.imap_last_error == ""
    assert channel.imap_last_polled_at is not None
    assert channel.imap_lock_token == ""  # the lease is released
    assert all("\\Seen" in flags for flags in dovecot.flags().values())
    assert tickets() == ["Question 0", "Question 1", "Question 2"]


def test_restarting_neither_skips_nor_repeats(tasks_now, dovecot):
    dovecot.append(make_mail(subject="Before"))
    channel = imap_channel(dovecot)
    imap.poll_channel(channel.pk)
    assert imap.poll_channel(channel.pk).stored == 0  # nothing new: nothing fetched

    dovecot.restart()
    dovecot.append(make_mail(subject="During the restart"))
    dovecot.append(make_mail(subject="After"))
    result = imap.poll_channel(channel.pk)

    assert result.stored == 2
    assert stored(channel).count() == 3
    assert tickets() == ["After", "Before", "During the restart"]


def test_a_changed_uidvalidity_rescans_and_dedupe_keeps_one_copy(tasks_now, dovecot):
    for n in range(3):
        dovecot.append(make_mail(subject=f"Old {n}"))
    channel = imap_channel(dovecot)
    imap.poll_channel(channel.pk)
    before = fresh(channel).imap_uidvalidity

    dovecot.reset_uidvalidity()
    dovecot.append(make_mail(subject="New"))
    result = imap.poll_channel(channel.pk)

    assert dovecot.uidvalidity() != before
    assert result.rescanned
    assert result.stored == 4  # all read again...
    assert stored(channel).count() == 4  # ...but only the new one is stored anew
    assert fresh(channel).imap_uidvalidity == dovecot.uidvalidity()
    assert tickets() == ["New", "Old 0", "Old 1", "Old 2"]


def test_a_crash_after_storing_refetches_and_stores_once(tasks_now, dovecot, monkeypatch):
    dovecot.append(make_mail(subject="One"))
    dovecot.append(make_mail(subject="Two"))
    channel = imap_channel(dovecot)
    real_save = imap._save_progress

    def crash_on_advance(email_channel_id, token, **fields):
        if "imap_last_uid" in fields and fields["imap_last_uid"] > 0:
            raise OSError("worker killed")
        real_save(email_channel_id, token, **fields)

    monkeypatch.setattr(imap, "_save_progress", crash_on_advance)
    with pytest.raises(imap.ImapPollError):
        imap.poll_channel(channel.pk)
    assert stored(channel).count() == 1  # stored, but the UID did not advance
    assert fresh(channel).imap_last_uid == 0
    assert "worker killed" in fresh(channel).imap_last_error

    monkeypatch.setattr(imap, "_save_progress", real_save)
    result = imap.poll_channel(channel.pk)

    assert result.stored == 2  # "One" fetched again...
    assert stored(channel).count() == 2  # ...and stored once
    assert fresh(channel).imap_last_error == ""
    assert tickets() == ["One", "Two"]


def test_a_failed_seen_flag_update_does_not_duplicate(tasks_now, dovecot_without_seen):
    server = dovecot_without_seen
    server.append(make_mail(subject="Unseen forever"))
    channel = imap_channel(server)
    imap.poll_channel(channel.pk)
    assert server.flags() == {1: set()}  # the server refused the \Seen flag

    imap.poll_channel(channel.pk)
    # Even a poller that forgot its place (and would see the mail as unread) stores it once.
    EmailChannel.objects.filter(pk=channel.pk).update(imap_last_uid=0)
    imap.poll_channel(channel.pk)

    assert stored(channel).count() == 1
    assert tickets() == ["Unseen forever"]


def test_a_connection_lost_while_flagging_does_not_duplicate(tasks_now, dovecot, monkeypatch):
    dovecot.append(make_mail(subject="Flag me"))
    channel = imap_channel(dovecot)
    real_uid = imaplib.IMAP4.uid

    def drop_on_store(self, command, *args):
        if command.upper() == "STORE":
            raise imaplib.IMAP4.abort("socket error: EOF")
        return real_uid(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", drop_on_store)
    with pytest.raises(imap.ImapPollError):
        imap.poll_channel(channel.pk)
    monkeypatch.setattr(imaplib.IMAP4, "uid", real_uid)
    assert "EOF" in fresh(channel).imap_last_error

    imap.poll_channel(channel.pk)

    assert stored(channel).count() == 1
    assert fresh(channel).imap_last_error == ""
    assert tickets() == ["Flag me"]


def test_two_polls_of_one_channel_never_overlap(transactional_db, dovecot):
    dovecot.append(make_mail())
    channel = imap_channel(dovecot)
    token = imap._acquire_lease(channel.pk)  # a poll in progress elsewhere
    assert token

    result = imap.poll_channel(channel.pk)

    assert result.locked
    assert not stored(channel).exists()
    imap._release_lease(channel.pk, token)
    assert imap.poll_channel(channel.pk).stored == 1


def test_wrong_password_is_recorded_on_the_channel(transactional_db, dovecot):
    channel = imap_channel(dovecot)
    services.update_email_channel(
        channel,
        actor=None,
        address=SUPPORT,
        display_name="",
        imap=services.ImapSettings(
            host=dovecot.host, port=dovecot.port, use_tls=False, user="support", password="nope"
        ),
    )
    with pytest.raises(imap.ImapPollError):
        imap.poll_channel(channel.pk)
    error = fresh(channel).imap_last_error
    assert "AUTHENTICATIONFAILED" in error or "Authentication failed" in error
    assert "nope" not in error


def test_a_message_over_the_limit_is_left_in_the_mailbox(transactional_db, dovecot, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 5_000
    big_uid = dovecot.append(make_mail(subject="Huge", body=("z" * 70 + "\n") * 200))
    dovecot.append(make_mail(subject="Small"))
    channel = imap_channel(dovecot)

    result = imap.poll_channel(channel.pk)

    assert (result.stored, result.too_large) == (1, 1)
    assert stored(channel).count() == 1
    assert f"UID {big_uid}" in fresh(channel).imap_last_error
    assert "\\Seen" not in dovecot.flags()[big_uid]


def test_imap_over_tls_verifies_the_certificate(tasks_now, monkeypatch):
    server = ImapServer(password=IMAP_PASSWORD, tls=True).start()
    try:
        server.append(make_mail(subject="Over TLS"))
        channel = imap_channel(server)
        # A certificate nobody vouches for is refused, and the reason is shown...
        monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")
        monkeypatch.setenv("SSL_CERT_DIR", "/nonexistent")
        with pytest.raises(imap.ImapPollError):
            imap.poll_channel(channel.pk)
        assert "CERTIFICATE_VERIFY_FAILED" in fresh(channel).imap_last_error
        assert not stored(channel).exists()
        # ...and once the system trusts it, mail comes in over TLS.
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        assert imap.poll_channel(channel.pk).stored == 1
    finally:
        server.cleanup()
    assert tickets() == ["Over TLS"]


def test_a_folder_with_a_space_in_its_name(transactional_db, dovecot):
    dovecot.append(make_mail(), folder="Help Desk")
    channel = imap_channel(dovecot, folder="Help Desk")
    assert imap.poll_channel(channel.pk).stored == 1


def test_the_scheduler_polls_every_minute(tasks_now, dovecot):
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")  # what `run_huey` does to find the tasks
    dovecot.append(make_mail(subject="Scheduled"))
    channel = imap_channel(dovecot)
    imap_channel(dovecot, address=BILLING)  # the same mailbox, a second channel
    services.connect_email_channel(actor=None, address="no-imap@acme.example")
    # Registered as a periodic task that is due at every minute of the day.
    periodic = {task.name: task for task in tasks_now._registry.periodic_tasks}
    task = periodic["poll_imap_channels"]
    minutes = [dt.datetime(2026, 1, 1, 10, m, tzinfo=dt.UTC) for m in (0, 1, 17, 59)]
    assert all(task.validate_datetime(moment) for moment in minutes)

    task.execute()  # the scheduler's run: one poll task per IMAP channel

    assert stored(channel).count() == 1
    assert stored(via="imap").count() == 2
    assert sorted(tickets()) == ["Scheduled", "Scheduled"]


# --- Raw-MIME HTTP endpoint --------------------------------------------------------------------


def post_raw(client, channel_id, raw, token):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.post(
        reverse("email_channel:raw", args=[channel_id]),
        data=raw,
        content_type="message/rfc822",
        **headers,
    )


@pytest.fixture
def http_channel(tasks_now):
    return connect()


def test_http_stores_the_message_and_answers_202(http_channel):
    client = Client(enforce_csrf_checks=True)  # the endpoint needs no CSRF token
    raw = make_mail(message_id="<http@customer.example>")
    response = post_raw(client, http_channel.channel.channel_id, raw, http_channel.http_token)
    assert response.status_code == 202
    inbound = InboundEmail.objects.get()
    assert response.json() == {"id": inbound.pk, "duplicate": False}
    assert inbound.via == "http"
    assert bytes(inbound.raw) == raw
    assert tickets() == ["Printer on fire"]


def test_http_the_same_message_twice_is_a_duplicate(http_channel, client):
    raw = make_mail(message_id="<twice@customer.example>")
    first = post_raw(client, http_channel.channel.channel_id, raw, http_channel.http_token)
    second = post_raw(client, http_channel.channel.channel_id, raw, http_channel.http_token)
    assert second.status_code == 202
    assert second.json() == {"id": first.json()["id"], "duplicate": True}
    assert InboundEmail.objects.count() == 1
    assert tickets() == ["Printer on fire"]


@pytest.mark.parametrize(
    "token", [None, "", "wrong-token", "other-channel"], ids=["missing", "empty", "wrong", "other"]
)
def test_http_refuses_a_missing_or_wrong_token_with_401(http_channel, client, token):
    if token == "other-channel":
        token = connect(BILLING).http_token
    response = post_raw(client, http_channel.channel.channel_id, make_mail(), token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not InboundEmail.objects.exists()


def test_http_refuses_a_disconnected_channel_and_an_unknown_one(http_channel, client):
    services.disconnect_email_channel(http_channel.channel, actor=None)
    cid = http_channel.channel.channel_id
    assert post_raw(client, cid, make_mail(), http_channel.http_token).status_code == 401
    assert post_raw(client, 99999, make_mail(), http_channel.http_token).status_code == 401


def test_http_refuses_a_message_over_the_limit_with_413(http_channel, client, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 1000
    cid, token = http_channel.channel.channel_id, http_channel.http_token
    response = post_raw(client, cid, make_mail(body="x" * 2000), token)
    assert response.status_code == 413
    assert not InboundEmail.objects.exists()
    assert post_raw(client, cid, make_mail(), token).status_code == 202


def test_http_refuses_an_empty_body_and_other_content_types(http_channel, client):
    cid, token = http_channel.channel.channel_id, http_channel.http_token
    assert post_raw(client, cid, b"", token).status_code == 400
    assert post_raw(client, cid, b"\r\n  \r\n", token).status_code == 400
    form = client.post(
        reverse("email_channel:raw", args=[cid]),
        data={"raw": "x"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert form.status_code == 415
    assert client.get(reverse("email_channel:raw", args=[cid])).status_code == 405
    assert not InboundEmail.objects.exists()


def test_the_token_is_stored_hashed(http_channel):
    channel = EmailChannel.objects.get()
    assert http_channel.http_token
    assert http_channel.http_token not in channel.http_token_hash
    assert len(channel.http_token_hash) == 64


# --- Outbound ----------------------------------------------------------------------------------


def send_through(connection, to="kim@customer.example"):
    message = DjangoEmailMessage(
        "Re: Printer on fire", "We are on it.", SUPPORT, [to], connection=connection
    )
    return message.send()


def test_a_channel_without_its_own_smtp_uses_the_global_settings(db, smtp_server):
    channel = connect().channel
    assert send_through(smtp_connection_for(channel)) == 1
    assert [m["Subject"] for m in smtp_server.messages] == ["Re: Printer on fire"]


def test_a_channel_with_its_own_smtp_url_sends_through_it(db, smtp_server):
    own = SmtpServer().start()
    try:
        channel = connect(smtp_url=f"smtp://127.0.0.1:{own.port}").channel
        assert "127.0.0.1" not in channel.smtp_url_encrypted  # stored encrypted
        assert decrypt_secret(channel.smtp_url_encrypted) == f"smtp://127.0.0.1:{own.port}"
        assert send_through(smtp_connection_for(channel)) == 1
    finally:
        own.stop()
    assert [m["To"] for m in own.messages] == ["kim@customer.example"]
    assert smtp_server.messages == []  # not through the global server


def test_no_channel_means_the_global_settings(db, smtp_server):
    assert send_through(smtp_connection_for(None)) == 1
    assert len(smtp_server.messages) == 1
