"""The workspace's pages over HTTP, as a browser meets them: `svardesk serve --workers 2`, wrk.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_<you>_1m \\
        REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python bench/http_pages.py [--duration 10] [--connections 1,4]
            [--only list,search] [--ticket ID] [--rare okta] [--common webhook]

Starts `svardesk serve --workers 2` (uvicorn's processes, without the task worker) on a free
loopback port against DATABASE_URL and REDIS_URL (the same environment as this process), signs
in the demo agent
(lists, search, the ticket page) and the demo super admin (the settings pages) through the
sign-in form, then runs Debian's `wrk` (one thread) against each page with each number of
connections and prints p50/p95/p99 latency, requests/s and the load average before and
after the run. Needs the demo data (`svardesk demo`); creates one custom view,
"HTTP bench: …", shared with everyone, when it is missing (so never point it at a database
you must not write to). Every answer must be 200: a page that answers anything else (a
redirect to the sign-in page, an error) is reported as such, not timed.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")

import django  # noqa: E402

django.setup()

from bench.wrk import WRK_DONE, free_port, load, run_wrk, start_web  # noqa: E402
from svardesk.accounts.models import User  # noqa: E402
from svardesk.demo.generator import DEMO_LOGINS  # noqa: E402
from svardesk.ticket_views import services  # noqa: E402
from svardesk.ticket_views.filters import Filter  # noqa: E402
from svardesk.ticket_views.models import CustomView, Sharing  # noqa: E402
from svardesk.tickets.models import Stage  # noqa: E402
from svardesk.tickets.queries import visible_tickets  # noqa: E402

CUSTOM_VIEW_NAME = "HTTP bench: my team's urgent and high, by priority"


def sign_in(base: str, email: str, password: str) -> str:
    """The sign-in form, as a browser submits it; returns the Cookie header to send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/") as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token:
        raise SystemExit("no CSRF token on the sign-in page")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": email, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - http to our own server
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request) as response:
        response.read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"signing in as {email} failed (throttled? wrong password?)")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def ensure_custom_view(agent: User, admin: User) -> CustomView:
    """Three filters (the agent's team, urgent or high, open), sorted by priority, with one
    column more than the default layout — the table path of the list."""
    view = CustomView.objects.filter(name=CUSTOM_VIEW_NAME).order_by("pk").first()
    if view is not None:
        return view
    open_stages = tuple(
        str(pk) for pk in Stage.objects.filter(is_closed=False).values_list("pk", flat=True)
    )
    return services.create_view(
        actor=admin,
        name=CUSTOM_VIEW_NAME,
        sharing=Sharing.EVERYONE,
        filters=[
            Filter("team", "IN", values=("my_team",)),
            Filter("priority", "IN", values=("HIGH", "URGENT")),
            Filter("stage", "IN", values=open_stages),
        ],
        sort="-priority",
        columns=["contact", "name", "stage", "priority", "team", "owner", "last_activity_at"],
    )


def pages(args: argparse.Namespace, agent: User, admin: User) -> list[tuple[str, str, str]]:
    """(group, name, path) of every page measured; group picks the signed-in user."""
    view = ensure_custom_view(agent, admin)
    ticket_id = args.ticket or (
        visible_tickets(agent).order_by("-last_activity_at").values_list("pk", flat=True).first()
    )
    found = [
        ("list", "default view: all open", "/views/all-open/"),
        ("list", "default view: assigned to me", "/views/assigned-to-me/"),
        ("list", "all tickets", "/tickets/"),
        ("list", "custom view (3 filters, by priority, 7 columns)", f"/views/custom-{view.pk}/"),
        (
            "search",
            f"search: rare word ({args.rare})",
            f"/tickets/?q={urllib.parse.quote(args.rare)}",
        ),
        (
            "search",
            f"search: common word ({args.common})",
            f"/tickets/?q={urllib.parse.quote(args.common)}",
        ),
    ]
    if ticket_id:
        found.append(("ticket", f"ticket page (#{ticket_id})", f"/tickets/{ticket_id}/"))
    found += [
        ("settings", f"settings: {name}", f"/settings/{name}/")
        for name in ("users", "teams", "pipelines", "properties", "create-form", "channels")
    ]
    if args.only:
        wanted = set(args.only.split(","))
        found = [page for page in found if page[0] in wanted]
    return found


def check(base: str, path: str, cookie: str) -> int:
    request = urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie})  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--connections", default="1,4", help="comma-separated (default 1,4)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="groups: list,search,ticket,settings")
    parser.add_argument("--ticket", type=int, default=0, help="the ticket page's ticket id")
    parser.add_argument("--rare", default="okta", help="a rare search word (default okta)")
    parser.add_argument(
        "--common", default="webhook", help="a common search word (default webhook)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    args = parser.parse_args()

    logins = {login.key: login for login in DEMO_LOGINS}
    agent = User.objects.get(email__iexact=logins["agent"].email)
    admin = User.objects.get(email__iexact=logins["admin"].email)
    measured = pages(args, agent, admin)
    from django.db import connection

    vendor = connection.vendor
    connection.close()  # the server's workers take their own

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_web(port, args.workers, ready_path="/accounts/login/")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(WRK_DONE)
        script = handle.name
    try:
        cookies = {
            "agent": sign_in(base, logins["agent"].email, logins["agent"].password),
            "admin": sign_in(base, logins["admin"].email, logins["admin"].password),
        }
        print(
            f"database: {vendor}, svardesk serve --workers {args.workers}, wrk -t1, "
            f"{args.duration} s a run; latency in ms; load = 1/5/15-min load average"
        )
        header = (
            f"{'page':<52} {'c':>2} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7}"
            f"  {'load before':<16} {'load after':<16}"
        )
        print(header)
        print("-" * len(header))
        for group, name, path in measured:
            cookie = cookies["admin" if group == "settings" else "agent"]
            status = check(base, path, cookie)
            if status != 200:
                print(f"{name:<52} answered {status} for {path}, not timed")
                continue
            if args.warmup:
                run_wrk(f"{base}{path}", 1, args.warmup, script, [f"Cookie: {cookie}"])
            for connections in (int(c) for c in args.connections.split(",")):
                before = load()
                result = run_wrk(
                    f"{base}{path}", connections, args.duration, script, [f"Cookie: {cookie}"]
                )
                rate = result["requests"] / (result["duration_us"] / 1e6)
                if not result["requests"]:
                    print(
                        f"{name:<52} {connections:>2} no answer within wrk's 10 s timeout"
                        f"  {before:<16} {load():<16}",
                        flush=True,
                    )
                    continue
                problems = ""
                if result["non_2xx"] or result["socket_errors"]:
                    problems = (
                        f"  !! {result['non_2xx']} non-2xx, {result['socket_errors']} socket errors"
                    )
                print(
                    f"{name:<52} {connections:>2} {result['p50'] / 1000:7.1f} "
                    f"{result['p95'] / 1000:7.1f} {result['p99'] / 1000:7.1f} {rate:7.1f}"
                    f"  {before:<16} {load():<16}{problems}",
                    flush=True,
                )
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        os.unlink(script)


if __name__ == "__main__":
    main()
