"""scripts/run.sh as a new user runs it: a fresh data folder, demo data with a channel of
every kind, and printed instructions for trying each one that work when followed — the mail
command as printed becomes a ticket, the demo website embeds the chat, the form opens, and
sent mail is kept in Settings → Outgoing mail. A second start loads nothing again."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.mail_server import free_port

ROOT = Path(__file__).resolve().parents[1]
BASH = shutil.which("bash") or "/bin/bash"
READY = "Svardesk is running at"


class RunSh:
    """scripts/run.sh in its own process group, its output collected as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [BASH, "scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY in self.output:
                return self.output
            if self.process.poll() is not None:
                pytest.fail(f"scripts/run.sh stopped:\n{self.output}")
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"scripts/run.sh did not start in {timeout}s:\n{self.output}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def _mail_command(output: str) -> str:
    """The mail command exactly as printed: from `printf` to `-T -`, continuation included."""
    match = re.search(r"^\s*(printf '.*?-T -)$", output, re.MULTILINE | re.DOTALL)
    assert match, output
    return match.group(1)


def _tickets(data: Path, name: str) -> list[tuple[str, str]]:
    with sqlite3.connect(data / "svardesk.sqlite3", timeout=10) as db:
        return db.execute(
            "SELECT name, source FROM tickets_ticket WHERE name = ?", [name]
        ).fetchall()


def _sources(data: Path) -> dict[str, int]:
    with sqlite3.connect(data / "svardesk.sqlite3", timeout=10) as db:
        rows = db.execute(
            "SELECT source, count(*) FROM tickets_ticket WHERE source IN ('CALL', 'MESSENGER') "
            "AND id > 200 GROUP BY source"
        ).fetchall()
    return dict(rows)


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_run_sh_says_how_to_try_each_channel_and_following_it_works(tmp_path):
    data = tmp_path / "data"
    port, smtp_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SVARDESK_BASE_URL", "SVARDESK_SMTP_URL"}
    }
    env.update(
        SVARDESK_DATA_DIR=str(data),
        SVARDESK_PORT=str(port),
        SVARDESK_SMTP_PORT=str(smtp_port),
        SVARDESK_DEMO_TICKETS="200",
        SVARDESK_LOG_LEVEL="warning",
    )
    base = f"http://127.0.0.1:{port}"

    run = RunSh(env)
    try:
        output = run.wait_ready()

        # What it says: every channel, and where sent mail goes.
        assert "==> Loading demo data" in output
        assert f"smtp://127.0.0.1:{smtp_port}" in output
        assert "--mail-rcpt support@svardesk.example" in output
        assert f"open {base}/demo/website/" in output
        form_url = re.search(rf"Form   open ({re.escape(base)}/forms/\S+/)", output)
        assert form_url, output
        assert "Settings → Outgoing mail" in output
        assert f"{base}/settings/outgoing-mail/" in output

        # The mail command, pasted into a shell, becomes a ticket from the email channel.
        subprocess.run([BASH, "-c", _mail_command(output)], check=True, timeout=30)
        deadline = time.monotonic() + 60
        while not _tickets(data, "My bike squeaks") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _tickets(data, "My bike squeaks") == [("My bike squeaks", "EMAIL")]

        # The call and Messenger commands, pasted into a shell, send signed webhooks to the
        # server and become tickets from those channels.
        for kind, source in (("call", "CALL"), ("messenger", "MESSENGER")):
            command = re.search(
                rf"^\s+(SVARDESK_DATA_DIR=\S+ .*demo_inbound {kind}\b.*)$", output, re.M
            )
            assert command, output
            # In run.sh's environment, as a person pastes it (no test DATABASE_URL).
            subprocess.run([BASH, "-c", command.group(1)], check=True, timeout=60, env=env)
            # Answered once stored; the server's worker makes the ticket a moment later.
            deadline = time.monotonic() + 60
            while not _sources(data).get(source) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert _sources(data).get(source) == 1, _sources(data)

        # The demo website embeds the chat; the form opens.
        status, website = _get(f"{base}/demo/website/")
        assert status == 200
        assert f'src="{base}/chat/widget.js"' in website
        assert "data-svardesk-chat=" in website
        assert f'href="{form_url.group(1)}"' in website
        assert _get(form_url.group(1))[0] == 200
    finally:
        run.stop()

    # Started again: nothing is loaded twice, and the instructions are the same.
    again = RunSh(env)
    try:
        second = again.wait_ready()
        assert "Loading demo data" not in second
        assert form_url.group(1) in second
        with sqlite3.connect(data / "svardesk.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0] == 203
            kinds = db.execute(
                "SELECT kind, count(*) FROM conversations_channel GROUP BY kind ORDER BY kind"
            ).fetchall()
        # Two addresses: support@ in the help desk, sales@ in the demo's Sales inbox.
        assert kinds == [("call", 1), ("chat", 1), ("email", 2), ("form", 1), ("messenger", 1)]
    finally:
        again.stop()
