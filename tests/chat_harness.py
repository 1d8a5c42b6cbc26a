"""Real Svardesk installs for the chat's end-to-end tests and its benchmark: a data folder and
database of their own, web processes (uvicorn, or `svardesk serve`) on free ports, a Redis
database nobody else is using, and an agent that signs in over HTTP as a browser does.

Used by tests/test_chat_processes.py, tests/browser/test_chat.py and bench/chat.py.

The database is a SQLite file in the install's data folder or, when DATABASE_URL names
PostgreSQL (as the PostgreSQL test run does), a fresh database beside it, dropped afterwards:
the servers are other processes, so they cannot share the test's own transaction.
"""

from __future__ import annotations

import asyncio
import fcntl
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.mail_server import free_port

SVARDESK = [sys.executable, "-m", "svardesk"]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Redis databases these tests and the benchmark may take, one run at a time each (a lock
# file says which is taken); test_serve uses 9. Each is emptied before use.
REDIS_DATABASES = range(10, 16)
SUPER_ADMIN = ("owner@example.com", "an owner password 1")
AGENT = ("anna@example.com", "an agent password 1")


def run_async(coroutine: Any) -> Any:
    """asyncio.run in its own thread: Playwright's session may hold this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def wait_for_port(port: int, *, process: subprocess.Popen[bytes] | None, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def redis_running() -> bool:
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def redis_database() -> Iterator[str]:
    """The URL of an emptied Redis database no other run of these tests holds."""
    import redis

    for number in REDIS_DATABASES:
        lock = open(f"/tmp/svardesk-chat-redis-{number}.lock", "w")  # noqa: SIM115, S108
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        try:
            client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
            client.flushdb()
            client.close()
            yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
            return
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
    raise RuntimeError(f"every Redis database in {list(REDIS_DATABASES)} is in use")


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextmanager
def _database(data: Path, name: str) -> Iterator[dict[str, str]]:
    """Environment naming the install's database: a SQLite file in its data folder, or a
    fresh PostgreSQL database when the tests run on PostgreSQL."""
    base = _postgres_url()
    if base is None:
        yield {}
        return
    import psycopg

    parts = urllib.parse.urlsplit(base)
    database = f"svardesk_{name}_{os.getpid()}"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        yield {"DATABASE_URL": parts._replace(path=f"/{database}").geturl()}
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass
class WebProcess:
    """One web process of an install, listening on `port`."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The process and its children (`serve`'s worker, uvicorn's workers)."""
        pids = [self.process.pid]
        with suppress(OSError):
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids += [int(pid) for pid in children.read_text().split()]
        return pids

    def rss_bytes(self) -> int:
        """Resident memory of the process and its children."""
        total = 0
        for pid in self.pids():
            with suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the process and its children have used so far."""
        total = 0.0
        for pid in self.pids():
            with suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                # A graceful stop (web processes, worker, relay) on a loaded two-core machine
                # has taken over 15 s; the caller asserts the clean exit code.
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL: the process stops without closing anything (as a crash would)."""
        with suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class Install:
    """A Svardesk install: data folder, database, optional Redis; web processes on demand."""

    data: Path
    env: dict[str, str]
    processes: list[WebProcess] = field(default_factory=list)

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [*SVARDESK, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"svardesk {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def shell(self, code: str) -> str:
        """Run Python in a Django shell of the install; what it printed."""
        return self.manage("shell", "-c", code)

    def web(
        self,
        *,
        serve: bool = False,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> WebProcess:
        """Start a web process: plain uvicorn on the ASGI app, or `svardesk serve` (web, worker
        and scheduler) with `serve=True`; on `port`, or a free one."""
        port = port or free_port()
        log = self.data / f"web-{port}.log"
        env = {**self.env, **(extra_env or {})}
        if serve:
            command = [*SVARDESK, "serve", "--port", str(port), "--no-migrate", "--no-smtp"]
        else:
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "svardesk.config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                "--no-access-log",
            ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        web = WebProcess(process=process, port=port, log=log)
        self.processes.append(web)
        try:
            wait_for_port(port, process=process)
        except RuntimeError as error:
            web.stop()
            raise RuntimeError(f"{error}\n{log.read_text(errors='replace')[-3000:]}") from error
        return web

    def create_agent(self, email: str, password: str, **fields: Any) -> int:
        code = (
            "from svardesk.accounts.services import create_user\n"
            f"user = create_user(actor=None, email={email!r}, password={password!r},"
            f" has_seat=True, **{fields!r})\n"
            "print(user.pk)\n"
        )
        return int(self.shell(code).split()[-1])

    def connect_chat(self, name: str, *websites: str) -> tuple[str, str]:
        """`svardesk connect_chat NAME --website ORIGIN …`: the snippet (its last line) and
        the channel's public key from it."""
        args = ["connect_chat", name]
        for website in websites:
            args += ["--website", website]
        snippet = self.manage(*args).strip().splitlines()[-1]
        key = re.search(r'data-svardesk-chat="([^"]+)"', snippet)
        if key is None:
            raise RuntimeError(f"no data-svardesk-chat in the snippet: {snippet}")
        return snippet, key.group(1)


@contextmanager
def install(
    tmp: Path, *, name: str = "chat", redis_url: str | None = None, **extra_env: str
) -> Iterator[Install]:
    """A migrated install with a super admin (SUPER_ADMIN); its web processes stop at the end."""
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    with _database(data, name) as database_env:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "SVARDESK_TASKS_IMMEDIATE"}
        }
        env.update(
            SVARDESK_DATA_DIR=str(data),
            DJANGO_SUPERUSER_EMAIL=SUPER_ADMIN[0],
            DJANGO_SUPERUSER_PASSWORD=SUPER_ADMIN[1],
            SVARDESK_LOG_LEVEL="warning",
            SVARDESK_TASKS_QUEUE=f"svardesk-{name}-{os.getpid()}",
            # Under test, not the DJANGO_ALLOW_ASYNC_UNSAFE the browser tests' process sets.
            DJANGO_ALLOW_ASYNC_UNSAFE="",
            **database_env,
            **extra_env,
        )
        if redis_url:
            env["REDIS_URL"] = redis_url
        site = Install(data=data, env=env)
        site.manage("migrate", "-v0")
        site.manage("createsuperuser", "--noinput")
        try:
            yield site
        finally:
            for web in site.processes:
                web.stop()


class HttpAgent:
    """Someone signed in over HTTP, as a browser is: session and CSRF cookies."""

    def __init__(self, url: str, email: str, password: str) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        status, _body, final_url = self._send(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1), "username": email, "password": password},
        )
        if "/accounts/login/" in final_url:
            raise RuntimeError(f"{email} could not sign in ({status})")

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    @property
    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def on(self, url: str) -> HttpAgent:
        """The same session on another web process of the install (shared database)."""
        other = object.__new__(HttpAgent)
        other.url, other.jar = url, self.jar
        other.opener = self.opener
        return other

    def get(self, path: str) -> str:
        with self.opener.open(self.url + path, timeout=30) as response:
            return str(response.read().decode())

    def post(self, path: str, data: dict[str, str], **headers: str) -> tuple[int, str]:
        status, body, _url = self._send(path, data, **headers)
        return status, body

    def _send(self, path: str, data: dict[str, str], **headers: str) -> tuple[int, str, str]:
        request = urllib.request.Request(
            self.url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.url + path, **headers},
        )
        if any(c.name == "csrftoken" for c in self.jar):
            request.add_header("X-CSRFToken", self.csrf)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.geturl()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.geturl()


def json_frame(text: str | bytes) -> dict[str, Any]:
    frame = json.loads(text)
    assert isinstance(frame, dict)
    return frame
