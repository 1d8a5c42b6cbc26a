"""A real IMAP server for tests: Debian's dovecot, started as a throw-away process with its own
configuration, one user and a maildir in a temporary folder.

Dovecot drops privileges for its login and mail processes: run as root (as in CI), they run
as `nobody`, so the folder lives directly under /tmp with permissions nobody can use (pytest's
tmp_path sits in a root-only directory). Run as another user, everything runs as that user.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from svardesk.channels.email.imap import quote_mailbox
from tests.mail_server import free_port

DOVECOT = os.environ.get("SVARDESK_DOVECOT", "/usr/sbin/dovecot")


class ImapServer:
    def __init__(
        self,
        *,
        user: str = "support",
        password: str = "imap secret 1",
        deny_seen_flag: bool = False,
        tls: bool = False,
    ) -> None:
        """With `tls`, the server speaks IMAP over TLS only (port 993 style) with a
        self-signed certificate for 127.0.0.1 made by `openssl` (`self.certificate`)."""
        if not Path(DOVECOT).exists():
            raise RuntimeError(
                f"dovecot not found at {DOVECOT}; scripts/test.sh installs dovecot-imapd"
            )
        self.user = user
        self.password = password
        self.deny_seen_flag = deny_seen_flag
        self.tls = tls
        self.host = "127.0.0.1"
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="svardesk-imap-", dir="/tmp"))
        self.root.chmod(0o755)
        self.process: subprocess.Popen[bytes] | None = None
        self._write_config()

    # --- set-up --------------------------------------------------------------------------------

    @property
    def certificate(self) -> Path:
        return self.root / "cert.pem"

    def _accounts(self) -> tuple[str, str]:
        if os.geteuid() == 0:
            return "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name

    def _write_config(self) -> None:
        account, group = self._accounts()
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir()
        if os.geteuid() == 0:
            os.chown(self.root / "mail", pwd.getpwnam(account).pw_uid, grp.getgrnam(group).gr_gid)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        if self.tls:
            subprocess.run(
                [
                    "/usr/bin/openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                    "-keyout",
                    str(self.root / "key.pem"),
                    "-out",
                    str(self.certificate),
                ],
                check=True,
                capture_output=True,
            )
        acl = ""
        if self.deny_seen_flag:
            # Every right but "s" (change \Seen): the server ignores the flag update.
            (self.root / "global-acl").write_text("* owner lrwipkxtea\n")
            (self.root / "global-acl").chmod(0o644)
            acl = (
                "mail_plugins = $mail_plugins acl\n"
                f"plugin {{\n  acl = vfile:{self.root}/global-acl\n}}\n"
            )
        ssl = (
            f"ssl = required\nssl_cert = <{self.certificate}\nssl_key = <{self.root}/key.pem"
            if self.tls
            else "ssl = no"
        )
        (self.root / "dovecot.conf").write_text(
            f"""protocols = imap
listen = {self.host}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {account}
default_internal_group = {group}
default_login_user = {account}
mail_location = maildir:{self.root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={account} gid={group} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {0 if self.tls else self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.port if self.tls else 0}
  }}
}}
{acl}"""
        )

    def start(self) -> ImapServer:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as probe:
                    if self.tls or probe.recv(64).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def reset_uidvalidity(self) -> None:
        """Make the server renumber the folder with a new UIDVALIDITY, as after a mailbox
        rebuild or a move to another server: stop, forget the UID list and indexes, start."""
        self.stop()
        time.sleep(1.1)  # UIDVALIDITY is a timestamp: make sure it differs
        for path in (self.root / "mail").rglob("dovecot*"):
            if path.is_file():
                path.unlink()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        if self.process is not None and self.process.stderr is not None:
            with contextlib.suppress(Exception):
                text += self.process.stderr.read1(4096).decode(errors="replace")  # type: ignore[attr-defined]
        return text[-4000:]

    # --- a mail client's view ------------------------------------------------------------------

    def client(self) -> imaplib.IMAP4:
        connection: imaplib.IMAP4
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.certificate))
            connection = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        else:
            connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        connection.login(self.user, self.password)
        return connection

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """Put a message in the folder as a mail server's delivery would; returns its UID."""
        connection = self.client()
        try:
            name = quote_mailbox(folder)
            if folder != "INBOX":
                connection.create(name)  # "NO" if it exists already: fine
            typ, data = connection.append(name, None, None, raw)
            assert typ == "OK", data
            # [APPENDUID <uidvalidity> <uid>]
            return int(data[0].split(b"APPENDUID ")[1].split(b"]")[0].split()[1])
        finally:
            connection.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID → flags of every message in the folder."""
        connection = self.client()
        try:
            connection.select(quote_mailbox(folder), readonly=True)
            _typ, data = connection.uid("FETCH", "1:*", "(UID FLAGS)")
            result: dict[int, set[str]] = {}
            for line in data:
                if not isinstance(line, bytes):
                    continue
                text = line.decode()
                uid = int(text.split("UID ")[1].split()[0])
                flags = text.split("FLAGS (")[1].split(")")[0].split()
                result[uid] = set(flags)
            return result
        finally:
            connection.logout()

    def uidvalidity(self, folder: str = "INBOX") -> int:
        connection = self.client()
        try:
            connection.select(quote_mailbox(folder), readonly=True)
            _name, values = connection.response("UIDVALIDITY")
            return int(values[-1])
        finally:
            connection.logout()
