"""`svardesk serve` names no channel: each registered channel adds its options and starts its
built-in server through the registry (`add_serve_arguments` / `start_embedded_server`). The
whole command runs as a real process in tests/test_serve.py and, with email's SMTP receiver,
in channels/email/tests/test_connect_command.py."""

import io
import smtplib
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.management.base import OutputWrapper

from svardesk.conversations.registry import ChannelAdapter, register, unregister
from svardesk.workspace.management.commands.serve import Command
from tests.mail_server import free_port


@dataclass(frozen=True)
class _EmbeddedAdapter(ChannelAdapter):
    kind: str = "test-embedded"
    events: list[tuple[str, Any]] = field(default_factory=list)

    def add_serve_arguments(self, parser: Any) -> None:
        parser.add_argument("--pager-port", type=int, default=7000)
        parser.add_argument("--no-pager", action="store_true")

    def start_embedded_server(
        self,
        options: Mapping[str, Any],
        *,
        host: str,
        say: Callable[[str], None],
        warn: Callable[[str], None],
    ) -> Callable[[], None] | None:
        if options["no_pager"]:
            return None
        self.events.append(("started", (host, options["pager_port"])))
        say(f"Paging on {host}:{options['pager_port']}")
        return lambda: self.events.append(("stopped", None))


@pytest.fixture
def pager() -> Iterator[_EmbeddedAdapter]:
    adapter = _EmbeddedAdapter()
    register(adapter)
    yield adapter
    unregister(adapter.kind)


def _command() -> tuple[Command, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    command = Command()
    command.stdout, command.stderr = OutputWrapper(out), OutputWrapper(err)
    return command, out, err


def _options(command: Command, *argv: str) -> dict[str, Any]:
    return vars(command.create_parser("svardesk", "serve").parse_args(list(argv)))


def test_a_registered_channel_adds_its_options_and_its_server(pager):
    command, out, _err = _command()
    options = _options(command, "--host", "127.0.0.2", "--pager-port", "7001", "--no-smtp")

    stops = command.start_embedded_servers(options, host=options["host"])

    assert pager.events == [("started", ("127.0.0.2", 7001))]
    assert "Paging on 127.0.0.2:7001" in out.getvalue()
    assert len(stops) == 1
    stops[0]()
    assert pager.events[-1] == ("stopped", None)


def test_a_channel_server_can_be_turned_off(pager):
    command, _out, _err = _command()
    options = _options(command, "--no-pager", "--no-smtp")

    assert command.start_embedded_servers(options, host="127.0.0.1") == []
    assert pager.events == []


def test_serve_keeps_the_email_options():
    command, _out, _err = _command()

    options = _options(command, "--smtp-port", "2600", "--smtp-host", "0.0.0.0")  # noqa: S104

    assert (options["smtp_port"], options["smtp_host"], options["no_smtp"]) == (
        2600,
        "0.0.0.0",  # noqa: S104
        False,
    )


def test_the_email_channel_starts_and_stops_its_smtp_receiver(db):
    command, out, _err = _command()
    port = free_port()
    options = _options(command, "--smtp-port", str(port))

    stops = command.start_embedded_servers(options, host="127.0.0.1")
    try:
        assert f"Receiving email by SMTP on 127.0.0.1:{port}" in out.getvalue()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            code, _banner = client.ehlo()
            assert code == 250
    finally:
        for stop in stops:
            stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_port_in_use_is_reported_and_the_rest_still_starts(db):
    command, out, err = _command()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = _options(command, "--smtp-port", str(port))

        stops = command.start_embedded_servers(options, host="127.0.0.1")

    assert stops == []
    assert f"The SMTP receiver could not listen on 127.0.0.1:{port}" in err.getvalue()
    assert "Receiving email" not in out.getvalue()
