"""Realistic demo data, deterministic from a seed, fast enough for a million tickets.

`load_demo` fills the database with teams, agents, contacts and tickets (each with its
"created" timeline row) and always (re)creates the fixed demo logins in `DEMO_LOGINS`.
Everything random comes from `random.Random` seeded per phase, so the same options give the
same rows in the same order.

Tickets, contacts and events are bulk loaded, bypassing `tickets.services.create_ticket` on
purpose: a service call per ticket would take hours for a million. The rows written are the
ones `create_ticket` would write (is_open mirrors the stage, preview is the first 200
characters of the description, one "created" event with {"source": …}). On PostgreSQL the
rows stream through COPY; elsewhere they go in with executemany in batches.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import string
import time
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from svardesk.accounts import services as account_services
from svardesk.accounts.models import TicketAccess, User
from svardesk.core.exceptions import SvardeskError
from svardesk.crm.models import (
    Association,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    RecordEvent,
)
from svardesk.demo import bulk
from svardesk.demo import channels as demo_channels
from svardesk.demo import crm as demo_crm
from svardesk.demo import inboxes as demo_inboxes
from svardesk.demo import vocabulary as words
from svardesk.demo.models import PendingIndex
from svardesk.search.postgres import WORDS_TABLE
from svardesk.teams import services as team_services
from svardesk.teams.models import Membership, Team
from svardesk.tickets.models import Pipeline, Priority, Source, Stage, Ticket, TicketEvent
from svardesk.tickets.services import ensure_default_pipeline

Progress = bulk.Progress
Row = bulk.Row

DEMO_DOMAIN = "svardesk.example"
HISTORY_DAYS = 180
CLOSED_SHARE = 0.40
SPAM_SHARE = 0.01
UNASSIGNED_SHARE = 0.30
# Of all tickets, the share owned by the fixed agent and by the super admin: the agent's
# "Assigned to me" is noticeably longer than the admin's.
AGENT_SHARE = 0.07
ADMIN_SHARE = 0.015
NO_TEAM_SHARE = 0.08


class DemoLogin(NamedTuple):
    key: str
    email: str
    password: str
    role: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", f"admin@{DEMO_DOMAIN}", "svardesk-admin", "super admin"),
    DemoLogin("agent", f"agent@{DEMO_DOMAIN}", "svardesk-agent", "agent, all tickets"),
    DemoLogin(
        "restricted", f"restricted@{DEMO_DOMAIN}", "svardesk-agent", "agent, team Billing only"
    ),
    DemoLogin("viewer", f"viewer@{DEMO_DOMAIN}", "svardesk-viewer", "no seat"),
)

_LOGIN_DEFAULTS: dict[str, Any] = {
    "is_active": True,
    "is_superuser": False,
    "has_seat": False,
    "can_manage_views": False,
    "has_account_access": False,
    "ticket_access": TicketAccess.ALL,
    "language": "en",
    "time_zone": "UTC",
}
# Fields of each fixed login over _LOGIN_DEFAULTS; teams by name, the first is the main team.
_LOGIN_FIELDS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "admin": (
        {
            "first_name": "Astrid",
            "last_name": "Admin",
            "is_superuser": True,
            "has_seat": True,
            "can_manage_views": True,
            "has_account_access": True,
            "ticket_access": TicketAccess.ALL,
            "time_zone": "Europe/Stockholm",
        },
        ("Support",),
    ),
    "agent": (
        {
            "first_name": "Alex",
            "last_name": "Agent",
            "has_seat": True,
            "can_manage_views": True,
            "ticket_access": TicketAccess.ALL,
            "time_zone": "Europe/Stockholm",
        },
        ("Support", "Technical"),
    ),
    "restricted": (
        {
            "first_name": "Rut",
            "last_name": "Restriktiv",
            "has_seat": True,
            "ticket_access": TicketAccess.TEAM,
            "language": "sv",
            "time_zone": "Europe/Stockholm",
        },
        ("Billing",),
    ),
    "viewer": (
        {"first_name": "Vera", "last_name": "Viewer", "has_seat": False},
        ("Support",),
    ),
}

# Every team a fixed login belongs to, in order of first mention.
_LOGIN_TEAMS = tuple(dict.fromkeys(name for _f, teams in _LOGIN_FIELDS.values() for name in teams))

_TICKET_COLUMNS = (
    "created_at",
    "updated_at",
    "name",
    "description",
    "pipeline_id",
    "stage_id",
    "priority",
    "category",
    "owner_id",
    "team_id",
    "source",
    "contact_id",
    "is_open",
    "is_spam",
    "closed_at",
    "last_activity_at",
    "last_message_author_id",
    "preview",
    "custom",
    "version",
)
# Plain strings, not the enum members: psycopg's COPY would write an Enum by its name.
_PRIORITIES = tuple(map(str, ("", Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT)))
_PRIORITY_WEIGHTS = (10, 25, 40, 20, 5)
# Sources and their weights: demo_channels.SOURCE_WEIGHTS, for the channels that exist.
_EMAIL = str(Source.EMAIL)


# --- Options and report ---------------------------------------------------------------------


class DemoDatabaseBusyError(SvardeskError):
    """The demo loader could not get the locks it needs in time."""


@dataclass(frozen=True)
class DemoOptions:
    tickets: int = 1_000
    contacts: int | None = None  # None: a fifth of the tickets, at least 10
    companies: int | None = None  # None: one per five contacts
    agents: int = 12
    teams: int = 5
    seed: int = 42
    reset: bool = False
    now: dt.datetime | None = None
    # Emptying tables and rebuilding indexes take exclusive locks; give up rather than
    # queue behind another session (and block everyone queued behind us) for long.
    lock_timeout_seconds: int = 60
    # Connect (or reuse) a demo channel of every installed kind first (demo/channels.py);
    # the chat is allowed on `origin` (None: settings.BASE_URL or http://127.0.0.1:8000).
    connect_channels: bool = True
    origin: str | None = None
    # The ticket sources to draw from; None: those whose channel exists, and Manual.
    sources: tuple[str, ...] | None = None

    @property
    def contact_count(self) -> int:
        if self.contacts is not None:
            return self.contacts
        return max(10, self.tickets // 5)

    @property
    def company_count(self) -> int:
        if self.companies is not None:
            return self.companies
        return self.contact_count // 5


@dataclass
class DemoReport:
    backend: str
    tickets: int = 0
    contacts: int = 0
    companies: int = 0
    deals: int = 0
    emails: int = 0
    phones: int = 0
    associations: int = 0
    events: int = 0
    agents: int = 0
    teams: int = 0
    assigned_to_admin: int = 0
    assigned_to_agent: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    channels: demo_channels.DemoChannels | None = None

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())

    @property
    def tickets_per_second(self) -> float:
        seconds = self.timings.get("tickets", 0.0)
        return self.tickets / seconds if seconds else 0.0


def _quiet(message: str) -> None:
    """Progress sink that drops every message."""


@contextmanager
def _timed(report: DemoReport, phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        report.timings[phase] = report.timings.get(phase, 0.0) + time.perf_counter() - started


# --- Entry point ----------------------------------------------------------------------------


def load_demo(options: DemoOptions, *, progress: Progress = _quiet) -> DemoReport:
    """Load demo data in one transaction (all or nothing) and then refresh planner statistics.

    Without `reset` the tickets and contacts are added to what is there; the fixed logins,
    the teams and the generated agents are reused (created when missing).

    On PostgreSQL the indexes a large load dropped commit as pending with the rows and are
    built right after on several connections at once (GIN builds use one process each); an
    interrupted build is finished first by the next load, or by `build_pending_indexes`.
    """
    if (
        options.tickets < 0
        or options.contact_count < 0
        or options.company_count < 0
        or options.agents < 0
    ):
        raise ValueError("Counts must not be negative")
    report = DemoReport(backend=connection.vendor)
    _build_pending_indexes(options, report, progress)  # what an interrupted load left
    deferred: list[PendingIndex] = []
    try:
        with transaction.atomic():
            bulk.limit_lock_waits(options.lock_timeout_seconds)
            _load_in_transaction(options, report, options.now or timezone.now(), progress, deferred)
            bulk.record_pending_indexes(deferred)
            commit_started = time.perf_counter()
    except OperationalError as exc:
        if bulk.is_lock_timeout(exc):
            raise DemoDatabaseBusyError(
                f"Another session kept the ticket or contact tables locked for more than "
                f"{options.lock_timeout_seconds}s (an open transaction, a long query). Stop "
                "it, or the server, and run the demo loader again. Nothing was changed."
            ) from exc
        raise
    report.timings["commit"] = time.perf_counter() - commit_started
    _build_pending_indexes(options, report, progress)
    with _timed(report, "analyze"):
        bulk.analyze_tables(
            [Ticket, TicketEvent, *_CRM_MODELS, Association], extra=_search_tables()
        )
    return report


def _build_pending_indexes(options: DemoOptions, report: DemoReport, progress: Progress) -> None:
    """Build the recorded pending indexes; their time counts to the "indexes" phase only when
    there were some (the phase is absent when a load rebuilt nothing)."""
    started = time.perf_counter()
    if bulk.build_pending_indexes(
        progress=progress, lock_timeout_seconds=options.lock_timeout_seconds
    ):
        report.timings["indexes"] = (
            report.timings.get("indexes", 0.0) + time.perf_counter() - started
        )


# The CRM tables the demo fills (contacts first: its expression indexes are search's).
_CRM_MODELS = (Contact, Company, ContactEmail, ContactPhone, Deal)


def _defaulted_ticket_columns() -> tuple[tuple[str, Any], ...]:
    """The ticket's required columns the generator does not write, with their model
    default: Django gives them no database default, so a COPY must (the SLA statuses, "")."""
    return tuple(
        (str(f.column), f.get_default())
        for f in Ticket._meta.concrete_fields
        if not f.primary_key and not f.null and f.has_default() and f.column not in _TICKET_COLUMNS
    )


def _search_tables() -> tuple[str, ...]:
    """Search's own tables that follow the tickets (PostgreSQL: their stored words)."""
    return (WORDS_TABLE,) if connection.vendor == "postgresql" else ()


def _load_in_transaction(
    options: DemoOptions,
    report: DemoReport,
    now: dt.datetime,
    progress: Progress,
    deferred: list[PendingIndex],
) -> None:
    if options.reset:
        with _timed(report, "reset"):
            reset_demo_data(progress=progress)
    if options.connect_channels:
        with _timed(report, "channels"):
            report.channels = demo_channels.connect_demo_channels(
                origin=options.origin or demo_channels.default_origin(), progress=progress
            )
        with _timed(report, "inboxes"):
            demo_inboxes.ensure_sales_inbox(now=now, seed=options.seed, progress=progress)
    report.sources = options.sources or demo_channels.demo_sources()
    with _timed(report, "users"):
        pipeline = ensure_default_pipeline()
        teams = ensure_teams(options.teams)
        logins = ensure_demo_logins(teams)
        agents = ensure_agents(random.Random(f"{options.seed}:agents"), options.agents, teams)
        report.teams, report.agents = len(teams), len(agents)
    first_contact = bulk.max_id(Contact)
    first_deal = bulk.max_id(Deal)
    # The records' indexes (search's expression indexes folding names among them) are built
    # once after the load rather than updated row by row.
    with bulk.indexes_rebuilt_after(
        [*_CRM_MODELS, Association],
        new_rows=options.contact_count,
        timings=report.timings,
        progress=progress,
        deferred=deferred,
    ):
        counts = demo_crm.load_records(
            seed=options.seed,
            companies=options.company_count,
            contacts=options.contact_count,
            owner_ids=[user.pk for user in agents] + [logins["agent"].pk, logins["admin"].pk],
            now=now,
            progress=progress,
        )
    for phase, seconds in counts.timings.items():
        report.timings[phase] = report.timings.get(phase, 0.0) + seconds
    report.contacts, report.companies, report.deals = (
        counts.contacts,
        counts.companies,
        counts.deals,
    )
    report.emails, report.phones, report.associations = (
        counts.emails,
        counts.phones,
        counts.associations,
    )
    plan = _ticket_plan(pipeline, teams, logins, agents, first_contact, report.sources)
    first_ticket = bulk.max_id(Ticket)
    with bulk.indexes_rebuilt_after(
        [Ticket, TicketEvent],
        new_rows=options.tickets,
        timings=report.timings,
        progress=progress,
        tables=_search_tables(),
        deferred=deferred,
    ):
        with _timed(report, "tickets"):
            rows = ticket_rows(random.Random(f"{options.seed}:tickets"), options.tickets, plan, now)
            defaulted = _defaulted_ticket_columns()
            columns = _TICKET_COLUMNS + tuple(column for column, _value in defaulted)
            if defaulted:
                values = tuple(value for _column, value in defaulted)
                rows = (row + values for row in rows)
            if connection.vendor == "postgresql":
                # With their search words, written from here rather than by the trigger.
                report.tickets = bulk.insert_tickets_with_words(
                    columns, rows, total=options.tickets, progress=progress
                )
            else:
                report.tickets = bulk.insert_rows(
                    Ticket,
                    columns,
                    rows,
                    label="tickets",
                    total=options.tickets,
                    progress=progress,
                )
        with _timed(report, "events"):
            report.events = bulk.create_ticket_events(after_id=first_ticket, progress=progress)
    with (
        bulk.indexes_rebuilt_after(
            [Association],
            new_rows=options.tickets * 2,
            timings=report.timings,
            progress=progress,
            deferred=deferred,
        ),
        _timed(report, "associations"),
    ):
        report.associations += demo_crm.associate_tickets(
            after_id=first_ticket, after_deal=first_deal, progress=progress
        )
    with _timed(report, "assignments"):
        report.assigned_to_admin, report.assigned_to_agent = balance_assignments(
            admin=logins["admin"], agent=logins["agent"]
        )


# --- Reset ----------------------------------------------------------------------------------


def reset_demo_data(*, progress: Progress = _quiet) -> None:
    """Delete every ticket (with its timeline), contact, company, deal and association, and
    every @svardesk.example user."""
    emptied = bulk.empty_tables(
        [Ticket, Contact, Company, Deal, Association, RecordEvent], progress=progress
    )
    User.objects.filter(email__iendswith=f"@{DEMO_DOMAIN}").delete()
    demo_inboxes.reset_sales_inbox()
    progress(f"reset: emptied {', '.join(emptied)} and removed the demo users")


# --- Teams and users ------------------------------------------------------------------------


def team_names(count: int) -> list[str]:
    """The first `count` team names, and always the teams the fixed logins belong to (Support,
    Billing, Technical)."""
    names = list(words.TEAM_NAMES[: max(count, 0)])
    names += [f"Team {i}" for i in range(len(names) + 1, count + 1)]
    for required in reversed(_LOGIN_TEAMS):
        if required not in names:
            names.insert(0, required)
    return names


def ensure_teams(count: int) -> list[Team]:
    teams: list[Team] = []
    for name in team_names(count):
        team = Team.objects.filter(name__iexact=name).first()
        teams.append(team or team_services.create_team(actor=None, name=name))
    return teams


def ensure_demo_logins(teams: Sequence[Team]) -> dict[str, User]:
    """Create or refresh the fixed logins: same fields, teams and password on every run."""
    by_name = {team.name: team for team in teams}
    users: dict[str, User] = {}
    for login in DEMO_LOGINS:
        overrides, team_list = _LOGIN_FIELDS[login.key]
        fields = {**_LOGIN_DEFAULTS, **overrides}
        user_teams = [by_name[name] for name in team_list]
        user = User.objects.filter(email__iexact=login.email).first()
        if user is None:
            user = account_services.create_user(
                actor=None,
                email=login.email,
                password=login.password,
                primary_team=user_teams[0],
                teams=user_teams,
                **fields,
            )
        else:
            user = account_services.update_user(
                user, actor=None, primary_team=user_teams[0], teams=user_teams, **fields
            )
            user.set_password(login.password)
            user.save(update_fields=["password"])
        users[login.key] = user
    return users


@functools.cache
def _ascii(text: str) -> str:
    """'Åsa Ström-O'Brien' -> 'asastromobrien': what fits the local part of an address."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _person(rng: random.Random, swedish_share: float) -> tuple[str, str, bool]:
    swedish = rng.random() < swedish_share
    first = _choice(rng, words.SWEDISH_FIRST_NAMES if swedish else words.ENGLISH_FIRST_NAMES)
    # People's surnames do not follow their first names' language one to one.
    swedish_last = swedish if rng.random() < 0.85 else not swedish
    last = _choice(rng, words.SWEDISH_LAST_NAMES if swedish_last else words.ENGLISH_LAST_NAMES)
    return first, last, swedish


def agent_specs(rng: random.Random, count: int, teams: Sequence[Team]) -> list[dict[str, Any]]:
    """`count` agents' emails, names, permissions and teams, drawn from `rng`."""
    reserved = {login.email for login in DEMO_LOGINS}
    specs: list[dict[str, Any]] = []
    for index in range(count):
        first, last, swedish = _person(rng, swedish_share=0.7)
        local = f"{_ascii(first)}.{_ascii(last)}"
        email, suffix = f"{local}@{DEMO_DOMAIN}", 1
        while email in reserved:
            suffix += 1
            email = f"{local}{suffix}@{DEMO_DOMAIN}"
        reserved.add(email)
        primary = teams[index % len(teams)]
        other_teams = [primary]
        if rng.random() < 0.25:
            other = _choice(rng, teams)
            if other.pk != primary.pk:
                other_teams.append(other)
        access_roll = rng.random()
        access = (
            TicketAccess.ALL
            if access_roll < 0.8
            else TicketAccess.TEAM
            if access_roll < 0.95
            else TicketAccess.OWN
        )
        specs.append(
            {
                "email": email,
                "primary_team": primary,
                "teams": other_teams,
                "first_name": first,
                "last_name": last,
                "has_seat": True,
                "can_manage_views": rng.random() < 0.3,
                "has_account_access": rng.random() < 0.1,
                "ticket_access": access,
                "language": "sv" if swedish else "en",
                "time_zone": "Europe/Stockholm" if rng.random() < 0.8 else "Europe/London",
            }
        )
    return specs


def ensure_agents(rng: random.Random, count: int, teams: Sequence[Team]) -> list[User]:
    """The generated agents (password unusable), reusing those a previous run created."""
    specs = agent_specs(rng, count, teams)
    existing = {
        user.email: user
        for user in User.objects.filter(email__in=[spec["email"] for spec in specs])
    }
    agents: list[User] = []
    for spec in specs:
        user = existing.get(spec["email"])
        if user is None:
            user = account_services.create_user(actor=None, password=None, **spec)
        agents.append(user)
    return agents


# --- Row generators -------------------------------------------------------------------------


def _choice(rng: random.Random, items: Sequence[Any]) -> Any:
    # Cheaper than rng.choice, and as deterministic.
    return items[int(rng.random() * len(items))]


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _weighted(rng: random.Random, items: Sequence[Any], cumulative: Sequence[float]) -> Any:
    return items[bisect(cumulative, rng.random() * cumulative[-1])]


def _digits(rng: random.Random, pattern: str) -> str:
    return "".join(str(int(rng.random() * 10)) if ch == "#" else ch for ch in pattern)


@dataclass
class _TicketPlan:
    """Everything ticket_rows needs from the database, looked up once."""

    pipeline_id: int
    stages: list[tuple[int, bool, float]]  # (id, is_closed, chance the agent wrote last)
    stage_cumulative: list[float]
    first_stage_id: int
    team_ids_by_name: dict[str, int]
    team_ids: list[int]
    owners_by_team: dict[int, list[int]]
    all_owner_ids: list[int]
    admin_id: int
    agent_id: int
    contacts: list[tuple[int, str]]  # (id, first name)
    sources: tuple[str, ...]  # the ticket sources whose channel exists
    source_cumulative: list[float]
    spam_source: str  # spam arrives by email, or by the first source there is


def _ticket_plan(
    pipeline: Pipeline,
    teams: Sequence[Team],
    logins: dict[str, User],
    agents: Sequence[User],
    first_new_contact: int,
    sources: Sequence[str],
) -> _TicketPlan:
    if not sources:
        raise ValueError("Demo tickets need at least one source")
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("display_order", "id"))
    if not stages:
        raise ValueError(f"Pipeline {pipeline.name!r} has no stages")
    open_stages = [s for s in stages if not s.is_closed]
    closed_stages = [s for s in stages if s.is_closed]
    weights: list[float] = []
    planned: list[tuple[int, bool, float]] = []
    for position, stage in enumerate(stages):
        if stage.is_closed:
            share = CLOSED_SHARE / len(closed_stages) if open_stages else 1 / len(stages)
            agent_wrote_last = 0.6
        else:
            share = (1 - CLOSED_SHARE if closed_stages else 1) / len(open_stages)
            # "Waiting on contact" means we answered last; "New" means nobody has yet.
            agent_wrote_last = (
                0.9 if "contact" in stage.name.lower() else 0.0 if position == 0 else 0.15
            )
        weights.append(share)
        planned.append((stage.pk, stage.is_closed, agent_wrote_last))

    member_pairs = Membership.objects.filter(
        user__in=[*agents, logins["restricted"]], team__in=teams
    ).values_list("team_id", "user_id")
    owners_by_team: dict[int, list[int]] = {team.pk: [] for team in teams}
    for team_id, user_id in sorted(member_pairs):
        owners_by_team[team_id].append(user_id)
    all_owner_ids = sorted({user.pk for user in agents} | {logins["restricted"].pk})

    # Tickets go to contacts this run created; to all contacts when it created none.
    contact_qs = Contact.objects.filter(pk__gt=first_new_contact)
    if not contact_qs.exists():
        contact_qs = Contact.objects.all()
    contacts = list(contact_qs.order_by("pk").values_list("pk", "first_name"))
    return _TicketPlan(
        pipeline_id=pipeline.pk,
        stages=planned,
        stage_cumulative=_cumulative(weights),
        first_stage_id=(open_stages or stages)[0].pk,
        team_ids_by_name={team.name: team.pk for team in teams},
        team_ids=[team.pk for team in teams],
        owners_by_team=owners_by_team,
        all_owner_ids=all_owner_ids,
        admin_id=logins["admin"].pk,
        agent_id=logins["agent"].pk,
        contacts=contacts,
        sources=tuple(sources),
        source_cumulative=_cumulative(
            demo_channels.SOURCE_WEIGHTS.get(source, 1) for source in sources
        ),
        spam_source=_EMAIL if _EMAIL in sources else sources[0],
    )


def _slot_values() -> dict[str, Callable[[random.Random], str]]:
    return {
        "invoice": lambda r: str(10000 + int(r.random() * 90000)),
        "order": lambda r: f"SV-{100000 + int(r.random() * 900000)}",
        "amount": lambda r: _choice(r, ("{:,} kr", "€{:,}.00", "${:,}.00")).format(
            99 + int(r.random() * 25000)
        ),
        "n": lambda r: str(2 + int(r.random() * 300)),
        "plan": lambda r: _choice(r, words.PLANS),
        "browser": lambda r: _choice(r, words.BROWSERS),
        "device": lambda r: _choice(r, words.DEVICES),
        "integration": lambda r: _choice(r, words.INTEGRATIONS),
        "error": lambda r: _choice(r, words.ERRORS),
        "idp": lambda r: _choice(r, words.IDENTITY_PROVIDERS),
        "weekday": lambda r: _choice(r, words.WEEKDAYS),
        "weekday_sv": lambda r: _choice(r, words.WEEKDAYS_SV),
        "month": lambda r: _choice(r, words.MONTHS),
        "month_sv": lambda r: _choice(r, words.MONTHS_SV),
    }


_SLOT_VALUES = _slot_values()


@functools.cache
def _template_fields(template: words.TicketTemplate) -> tuple[str, ...]:
    found = [
        name
        for text in (template.subject, template.body)
        for _literal, name, _spec, _conv in string.Formatter().parse(text)
        if name
    ]
    return tuple(dict.fromkeys(found))


def ticket_rows(
    rng: random.Random, count: int, plan: _TicketPlan, now: dt.datetime
) -> Iterator[Row]:
    """Rows for tickets_ticket in `_TICKET_COLUMNS` order."""
    templates = words.TICKET_TEMPLATES
    priority_cum = _cumulative(_PRIORITY_WEIGHTS)
    sources, source_cum, spam_source = plan.sources, plan.source_cumulative, plan.spam_source
    contacts, n_contacts = plan.contacts, len(plan.contacts)
    team_ids = plan.team_ids
    timedelta = dt.timedelta
    history = HISTORY_DAYS * 86400.0
    agent_cut = UNASSIGNED_SHARE + AGENT_SHARE
    admin_cut = agent_cut + ADMIN_SHARE
    for _ in range(count):
        contact_id, contact_first = None, ""
        if n_contacts and rng.random() < 0.95:
            # A few contacts write often, most write once or twice.
            contact_id, contact_first = contacts[int(n_contacts * rng.random() ** 1.6)]
        source = _weighted(rng, sources, source_cum)
        age = rng.random() * history
        if rng.random() < SPAM_SHARE:
            name = _choice(rng, words.SPAM_SUBJECTS)
            description = _choice(rng, words.SPAM_BODIES)
            last_activity = now - timedelta(seconds=age)
            created = last_activity - timedelta(seconds=rng.random() * 600)
            yield (
                created, last_activity, name, description, plan.pipeline_id,
                plan.first_stage_id, "", "", None, None, spam_source, contact_id, True, True,
                None, last_activity, None, description[:200], "{}", 1,
            )  # fmt: skip
            continue

        template = _choice(rng, templates)
        values = {slot: _SLOT_VALUES[slot](rng) for slot in _template_fields(template)}
        language = template.language
        name = template.subject.format_map(values)
        if source == _EMAIL and rng.random() < 0.12:
            name = words.REPLY_PREFIXES[language] + name
        greeting = _choice(rng, words.GREETINGS[language])
        extra = _choice(rng, words.EXTRA_SENTENCES[language])
        body = template.body.format_map(values)
        if extra:
            body = f"{body} {extra}"
        sign_off = _choice(rng, words.SIGN_OFFS[language])
        signature = f"{sign_off}\n{contact_first}" if contact_first else sign_off
        description = (
            f"{greeting}\n\n{body}\n\n{signature}" if greeting else f"{body}\n\n{signature}"
        )

        stage_id, is_closed, agent_wrote_last = _weighted(rng, plan.stages, plan.stage_cumulative)
        if rng.random() < NO_TEAM_SHARE:
            team_id = None
        else:
            team_id = plan.team_ids_by_name.get(template.team) or _choice(rng, team_ids)
        roll = rng.random()
        if roll < UNASSIGNED_SHARE:
            owner_id = None
        elif roll < agent_cut:
            owner_id = plan.agent_id
        elif roll < admin_cut:
            owner_id = plan.admin_id
        else:
            pool = plan.owners_by_team.get(team_id) if team_id else None
            pool = pool or plan.all_owner_ids
            owner_id = _choice(rng, pool) if pool else None
        last_author = owner_id if owner_id and rng.random() < agent_wrote_last else None

        if is_closed:
            last_activity = now - timedelta(seconds=age)
        else:
            # Open work is mostly recent; some tickets linger for months.
            last_activity = now - timedelta(seconds=min(rng.expovariate(1 / 10.0), 180.0) * 86400)
        created = last_activity - timedelta(seconds=min(rng.expovariate(1 / 2.5), 45.0) * 86400)
        yield (
            created, last_activity, name, description, plan.pipeline_id, stage_id,
            _weighted(rng, _PRIORITIES, priority_cum), template.category, owner_id, team_id,
            source, contact_id, not is_closed, False, last_activity if is_closed else None,
            last_activity, last_author, description[:200], "{}", 1,
        )  # fmt: skip


# --- Assignments ---------------------------------------------------------------------------


def count_assigned_to(user: User) -> int:
    """The user's "Assigned to me" count: open, non-spam tickets they own."""
    return Ticket.objects.filter(is_open=True, is_spam=False, owner_id=user.pk).count()


def balance_assignments(*, admin: User, agent: User) -> tuple[int, int]:
    """Make sure the agent's "Assigned to me" is longer than the admin's, so the two logins
    show different lists. Random shares do that for any sizeable load; tiny loads may need
    a few tickets handed over. Returns (admin count, agent count)."""
    admin_count, agent_count = count_assigned_to(admin), count_assigned_to(agent)
    if agent_count > admin_count:
        return admin_count, agent_count
    needed = admin_count - agent_count + 1
    candidates = list(
        Ticket.objects.filter(is_open=True, is_spam=False)
        .exclude(owner_id__in=[admin.pk, agent.pk])
        .order_by("pk")
        .values_list("pk", flat=True)[:needed]
    )
    Ticket.objects.filter(pk__in=candidates).update(owner_id=agent.pk)
    return count_assigned_to(admin), count_assigned_to(agent)


# --- Summary --------------------------------------------------------------------------------


def format_summary(report: DemoReport, *, with_logins: bool = True) -> str:
    lines = [
        f"Loaded on {report.backend}: {report.tickets:,} tickets, {report.events:,} events, "
        f"{report.contacts:,} contacts, {report.agents:,} agents, {report.teams} teams.",
        f"CRM: {report.companies:,} companies, {report.deals:,} deals, {report.emails:,} "
        f"contact emails, {report.phones:,} phone numbers, {report.associations:,} "
        "associations.",
        "Timings: "
        + ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in report.timings.items())
        + f"; total {report.total_seconds:.1f}s",
    ]
    if report.tickets:
        lines.append(f"Tickets: {report.tickets_per_second:,.0f} per second.")
    lines.append(
        f'"Assigned to me": agent {report.assigned_to_agent:,}, '
        f"super admin {report.assigned_to_admin:,}."
    )
    if report.sources:
        lines.append(f"Ticket sources: {', '.join(report.sources)}.")
    if report.channels is not None:
        channels = report.channels
        if channels.email is not None:
            lines.append(f"Email: mail to {demo_channels.DEMO_ADDRESS} becomes a ticket.")
        if channels.chat is not None:
            lines.append(f"Chat: on {channels.origin}/demo/website/")
        if channels.form_url:
            lines.append(f"Form: {channels.form_url}")
        if channels.calls is not None:
            lines.append(
                f"Calls: {demo_channels.DEMO_CALL_NUMBER} (try `svardesk demo_inbound call`); "
                f"voice webhook {channels.calls_url}"
            )
        if channels.messenger is not None:
            lines.append(
                "Messenger: a demo Facebook Page (try `svardesk demo_inbound messenger`); "
                f"webhook {channels.messenger_url}"
            )
        if channels.skipped:
            lines.append(f"Not installed, so not connected: {', '.join(channels.skipped)}.")
    if not with_logins:
        return "\n".join(lines)
    lines.append("Sign in with:")
    width = max(len(login.email) for login in DEMO_LOGINS)
    lines.extend(
        f"  {login.email:<{width}}  {login.password:<16}  {login.role}" for login in DEMO_LOGINS
    )
    return "\n".join(lines)


__all__ = [
    "DEMO_LOGINS",
    "DemoOptions",
    "DemoReport",
    "count_assigned_to",
    "format_summary",
    "load_demo",
    "reset_demo_data",
]
