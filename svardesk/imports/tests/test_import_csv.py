"""`svardesk import_csv`: mapping by header, label and --map; bad rows and the error CSV; a
re-run changes nothing; semicolons and a byte-order mark; a row is never half-applied."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from svardesk.crm.models import (
    Association,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    RecordEvent,
)
from svardesk.imports.models import ImportJob, ImportStatus
from svardesk.tickets.models import Source, Ticket, TicketEvent
from svardesk.tickets.services import create_property_definition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def write_csv(
    path: Path, rows: list[list[str]], *, delimiter: str = ",", bom: bool = False
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def error_rows(job: ImportJob) -> list[list[str]]:
    with open(job.error_path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


CONTACT_ROWS = [
    ["email", "firstname", "lastname", "phone", "Kundnummer", "Unknown column"],
    ["anna@example.com", "Anna", "Andersson", "070-123 45 67", "K1", "x"],
    ["not-an-email", "Bo", "Berg", "", "K2", "x"],
    ["carl@example.com", "Carl", "Ceder", "12", "K3", "x"],
    ["dora@example.com", "Dora", "Dahl", "+44 20 7946 0958", "K4", "x"],
]


def test_contacts_with_bad_rows_give_counts_and_an_error_csv(tmp_path):
    path = write_csv(tmp_path / "contacts.csv", CONTACT_ROWS)

    out, err = run("--type", "contacts", str(path), "--map", "Kundnummer=external_id")

    assert last_line(out) == "2 created, 0 updated, 2 failed"
    assert "Unknown column" in err
    anna = Contact.objects.get(external_id="K1")
    assert (anna.first_name, anna.email, anna.phone) == ("Anna", "anna@example.com", "+46701234567")
    assert list(anna.emails.values_list("email_key", "is_primary")) == [("anna@example.com", True)]
    assert list(anna.phones.values_list("number", flat=True)) == ["+46701234567"]
    assert RecordEvent.objects.filter(object_type="contact", kind="created").count() == 2
    job = ImportJob.objects.get()
    assert (job.status, job.created, job.failed, job.rows_done) == (ImportStatus.DONE, 2, 2, 4)
    rows = error_rows(job)
    assert rows[0] == [*CONTACT_ROWS[0], "Error"]
    assert [r[:6] for r in rows[1:]] == [CONTACT_ROWS[2], CONTACT_ROWS[3]]
    assert rows[1][6].startswith("email: ")
    assert rows[2][6].startswith("phone: ")


def test_a_rerun_of_the_same_file_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "contacts.csv", CONTACT_ROWS)
    run("--type", "contacts", str(path), "--map", "Kundnummer=external_id")
    counts = (
        Contact.objects.count(),
        ContactEmail.objects.count(),
        ContactPhone.objects.count(),
        RecordEvent.objects.count(),
    )

    out, err = run("--type", "contacts", str(path), "--map", "Kundnummer=external_id")

    assert last_line(out) == "0 created, 0 updated, 2 failed"
    assert "2 unchanged" in err
    assert (
        Contact.objects.count(),
        ContactEmail.objects.count(),
        ContactPhone.objects.count(),
        RecordEvent.objects.count(),
    ) == counts


def test_a_changed_row_updates_its_contact_found_by_any_of_its_addresses(tmp_path):
    write = write_csv(
        tmp_path / "a.csv",
        [["email", "hs_additional_emails", "firstname"], ["anna@example.com", "a@work.se", "Anna"]],
    )
    run("--type", "contacts", str(write))
    again = write_csv(tmp_path / "b.csv", [["Email", "First name"], ["A@WORK.SE", "Annika"]])

    out, _err = run("--type", "contacts", str(again))

    assert last_line(out) == "0 created, 1 updated, 0 failed"
    contact = Contact.objects.get()
    assert contact.first_name == "Annika"
    assert contact.email == "anna@example.com"  # the primary address stays
    event = RecordEvent.objects.get(kind="changed")
    assert (event.property_name, event.old_value, event.new_value) == (
        "firstname",
        "Anna",
        "Annika",
    )


def test_headers_by_swedish_label_semicolons_and_a_byte_order_mark(tmp_path):
    path = write_csv(
        tmp_path / "excel.csv",
        [["E-post", "Förnamn", "Efternamn"], ["eva@example.se", "Eva", "Ek"]],
        delimiter=";",
        bom=True,
    )

    out, _err = run("--type", "contacts", str(path))

    assert last_line(out) == "1 created, 0 updated, 0 failed"
    assert Contact.objects.filter(email="eva@example.se", first_name="Eva", last_name="Ek").exists()


def test_custom_property_values_are_checked_and_a_bad_row_writes_nothing(tmp_path):
    create_property_definition(
        actor=None, name="seats", label="Seats", type="number", object_type="contact"
    )
    create_property_definition(
        actor=None, name="renewal", label="Renewal date", type="date", object_type="contact"
    )
    path = write_csv(
        tmp_path / "custom.csv",
        [
            ["email", "phone", "Seats", "renewal"],
            ["ok@example.com", "08-123 456 78", "1 200", "2027-01-31"],
            ["bad-number@example.com", "08-123 456 79", "many", "2027-01-31"],
            ["bad-date@example.com", "08-123 456 70", "3", "31/31/2027"],
        ],
    )

    out, _err = run("--type", "contacts", str(path))

    assert last_line(out) == "1 created, 0 updated, 2 failed"
    assert Contact.objects.get().custom == {"seats": 1200, "renewal": "2027-01-31"}
    # the failed rows left nothing behind: no contact, address or number of theirs
    assert not ContactEmail.objects.filter(email_key__startswith="bad").exists()
    assert ContactPhone.objects.count() == 1


def test_an_email_of_another_contact_fails_the_row_and_writes_none_of_it(tmp_path):
    first = write_csv(
        tmp_path / "a.csv",
        [["email", "external_id"], ["one@example.com", "X1"], ["two@example.com", "X2"]],
    )
    run("--type", "contacts", str(first))
    clash = write_csv(
        tmp_path / "b.csv",
        [
            ["external_id", "email", "firstname", "mobilephone"],
            ["X1", "two@example.com", "Changed", "0701234567"],
        ],
    )

    out, _err = run("--type", "contacts", str(clash))

    assert last_line(out) == "0 created, 0 updated, 1 failed"
    one = Contact.objects.get(external_id="X1")
    assert one.first_name == ""
    assert not ContactPhone.objects.exists()


def test_map_names_a_property_and_unknown_properties_are_refused(tmp_path):
    path = write_csv(tmp_path / "c.csv", [["Firma", "Webb"], ["Acme AB", "https://www.Acme.se/om"]])

    with pytest.raises(CommandError):
        run("--type", "companies", str(path), "--map", "Firma=nonsense")
    out, _err = run("--type", "companies", str(path), "--map", "Firma=name", "--map", "Webb=domain")

    assert last_line(out) == "1 created, 0 updated, 0 failed"
    company = Company.objects.get()
    assert (company.name, company.domain) == ("Acme AB", "acme.se")


def test_a_company_without_its_required_name_fails(tmp_path):
    path = write_csv(
        tmp_path / "c.csv", [["name", "domain"], ["", "nameless.se"], ["Named", "named.se"]]
    )

    out, _err = run("--type", "companies", str(path))

    assert last_line(out) == "1 created, 0 updated, 1 failed"
    assert error_rows(ImportJob.objects.get())[1][-1].startswith("name: ")


def test_companies_found_again_by_domain_and_new_contacts_join_them(tmp_path):
    companies = write_csv(tmp_path / "c.csv", [["name", "domain"], ["Acme", "acme.se"]])
    run("--type", "companies", str(companies))
    run("--type", "companies", str(companies))
    contacts = write_csv(tmp_path / "p.csv", [["email"], ["pia@acme.se"], ["per@gmail.com"]])

    run("--type", "contacts", str(contacts))

    acme = Company.objects.get()
    assert Contact.objects.get(email="pia@acme.se").company_id == acme.pk
    assert Contact.objects.get(email="per@gmail.com").company_id is None
    assert (
        Association.objects.filter(from_type="contact", to_type="company", to_id=acme.pk).count()
        == 2
    )  # unlabelled and primary


def test_the_same_contact_twice_in_one_file_is_created_once(tmp_path):
    path = write_csv(
        tmp_path / "dup.csv",
        [["email", "firstname"], ["sam@example.com", "Sam"], ["SAM@example.com", "Samuel"]],
    )

    out, _err = run("--type", "contacts", str(path))

    assert last_line(out) == "1 created, 1 updated, 0 failed"
    assert Contact.objects.get().first_name == "Samuel"


def test_tickets_are_created_through_the_ticket_service_and_found_again(tmp_path):
    Contact.objects.create(email="kund@example.com")
    ContactEmail.objects.create(
        contact=Contact.objects.get(), email="kund@example.com", email_key="kund@example.com"
    )
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["subject", "content", "hs_pipeline_stage", "hs_ticket_priority", "contact_email"],
            ["Printer broken", "It smokes", "Closed", "HIGH", "kund@example.com"],
            ["No contact", "", "", "Urgent", "nobody@example.com"],
            ["", "a ticket without a name", "", "", ""],
            ["Wrong status", "", "Nonsense", "", ""],
            ["Plain", "", "", "", ""],
        ],
    )

    out, _err = run("--type", "tickets", str(path))
    again, _err = run("--type", "tickets", str(path))

    assert last_line(out) == "2 created, 0 updated, 3 failed"
    assert last_line(again) == "0 created, 0 updated, 3 failed"
    printer = Ticket.objects.get(name="Printer broken")
    assert (printer.source, printer.priority, printer.is_open) == (Source.IMPORT, "HIGH", False)
    assert printer.contact.email == "kund@example.com"
    assert printer.external_id.startswith("csv:")
    assert TicketEvent.objects.filter(ticket=printer, kind="created").count() == 1
    assert Ticket.objects.count() == 2


def test_a_ticket_found_by_its_external_id_is_updated(tmp_path):
    first = write_csv(tmp_path / "a.csv", [["hs_object_id", "subject"], ["T-1", "Old name"]])
    run("--type", "tickets", str(first))
    second = write_csv(tmp_path / "b.csv", [["hs_object_id", "subject"], ["T-1", "New name"]])

    out, _err = run("--type", "tickets", str(second))

    assert last_line(out) == "0 created, 1 updated, 0 failed"
    assert Ticket.objects.get().name == "New name"


def test_dry_run_counts_and_saves_nothing(tmp_path):
    path = write_csv(tmp_path / "contacts.csv", CONTACT_ROWS)

    out, err = run("--type", "contacts", str(path), "--dry-run")

    assert last_line(out) == "2 created, 0 updated, 2 failed"
    assert "Dry run" in err
    assert not Contact.objects.exists()
    assert not ImportJob.objects.exists()


def test_a_job_resumes_after_the_rows_it_has_done(tmp_path):
    from svardesk.imports import services
    from svardesk.imports.engine import run_job

    path = write_csv(
        tmp_path / "c.csv", [["email"], ["a@example.com"], ["b@example.com"], ["c@example.com"]]
    )
    job = services.create_job(
        actor=None, object_type="contacts", file_path=path, original_name="c.csv", headers=["email"]
    )
    # As if a first run had done one row and its worker died.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, rows_done=1, created=1)
    Contact.objects.create(email="a@example.com")

    job = run_job(job.pk)
    again = run_job(job.pk)

    assert (job.status, job.created, job.rows_done) == (ImportStatus.DONE, 3, 3)
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert again.created == 3


def test_a_found_ticket_keeps_its_pipeline_when_the_row_names_none(tmp_path):
    from svardesk.tickets.services import create_pipeline, update_ticket

    path = write_csv(tmp_path / "t.csv", [["external_id", "subject"], ["T-9", "Moved later"]])
    run("--type", "tickets", str(path))
    ticket = Ticket.objects.get()
    other = create_pipeline(actor=None, name="Returns")
    update_ticket(ticket.pk, actor=None, changes={"pipeline": other.pk})

    out, _err = run("--type", "tickets", str(path))

    assert last_line(out) == "0 created, 0 updated, 0 failed"
    ticket.refresh_from_db()
    assert ticket.pipeline_id == other.pk


def test_a_new_address_is_added_to_the_contact_found_by_its_external_id(tmp_path):
    first = write_csv(tmp_path / "a.csv", [["external_id", "email"], ["X1", "one@example.com"]])
    run("--type", "contacts", str(first))
    second = write_csv(
        tmp_path / "b.csv",
        [["external_id", "hs_additional_emails"], ["X1", "two@example.com; Three@example.com"]],
    )

    out, _err = run("--type", "contacts", str(second))

    assert last_line(out) == "0 created, 1 updated, 0 failed"
    contact = Contact.objects.get()
    assert list(contact.emails.values_list("email", "is_primary")) == [
        ("one@example.com", True),
        ("two@example.com", False),
        ("Three@example.com", False),
    ]
    event = RecordEvent.objects.get(kind="changed")
    assert (event.property_name, event.old_value, event.new_value) == (
        "emails",
        ["one@example.com"],
        ["one@example.com", "two@example.com", "Three@example.com"],
    )


def test_a_batch_looks_its_keys_up_through_btree_indexes_and_restores_the_planner():
    """pg_trgm's GIN index answers `=` too. Statistics taken when the addresses table held
    4,000 rows (autovacuum analyses that early in a long import) led PostgreSQL to probe it
    once per address for the next batch's 1,000 lookups: 6 to 10 s a batch. With statistics
    older than the rows it read every address (or every unmerged contact, through the
    merged_into index) instead of probing the unique index. The lookups run with bitmap and
    sequential scans off, and both settings are back on afterwards."""
    from django.db import connection, transaction
    from django.db.models import F

    from svardesk.imports.bulk import AnyOf, insert_rows, plain_index_lookups

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")

    def add(numbers: range) -> None:
        ids = insert_rows(
            Contact,
            [{"first_name": f"P{n}", "external_id": f"ext-{n}"} for n in numbers],
            with_ids=True,
        )
        addresses = [f"p{n}.run@import-bench.example" for n in numbers]
        insert_rows(
            ContactEmail,
            [
                {"contact_id": i, "email": a, "email_key": a, "is_primary": True}
                for i, a in zip(ids, addresses, strict=True)
            ],
        )

    def settings() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan')"
            )
            return tuple(cursor.fetchone())  # type: ignore[return-value]

    def plan(queryset: Any) -> str:
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            return " ".join(row[0] for row in cursor.fetchall())

    with transaction.atomic():
        add(range(4000))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE crm_contactemail")
            cursor.execute("ANALYZE crm_contact")
        add(range(4000, 8000))
        wanted = range(7000, 8000)
        with plain_index_lookups():
            assert settings() == ("off", "off")
            emails = plan(
                ContactEmail.objects.filter(
                    AnyOf(F("email_key"), [f"p{n}.run@import-bench.example" for n in wanted])
                ).values_list("email_key", "contact_id")
            )
            external = plan(
                Contact.objects.filter(
                    AnyOf(F("external_id"), [f"ext-{n}" for n in wanted])
                ).values_list("external_id", "pk", "merged_into_id")
            )
        assert "search_contactemail_trgm" not in emails
        assert "Seq Scan" not in emails
        assert "crm_contact_external_id" in external, external
        assert settings() == ("on", "on")


def test_any_of_finds_what_in_finds_with_one_parameter_on_postgresql():
    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    from svardesk.imports.bulk import AnyOf

    for n, name in enumerate(["Åsa", "Bo", "Cecilia", "bo"]):
        Contact.objects.create(first_name=name, external_id=f"x-{n}")
    wanted_sets = [["Bo", "Åsa", "Nobody"], ["bo"], [], ["x-1"]]
    for wanted in wanted_sets:
        for column in ("first_name", "external_id"):
            with CaptureQueriesContext(connection) as queries:
                found = set(
                    Contact.objects.filter(AnyOf(F(column), wanted)).values_list("pk", flat=True)
                )
            expected = set(
                Contact.objects.filter(**{f"{column}__in": wanted}).values_list("pk", flat=True)
            )
            assert found == expected, (column, wanted)
            if connection.vendor == "postgresql":
                assert "= ANY(" in queries.captured_queries[0]["sql"]
    assert len(set(Contact.objects.filter(AnyOf(F("first_name"), ["Bo", "Åsa"])))) == 2


def test_a_batch_commits_without_waiting_for_the_disk_and_only_that_batch():
    from django.db import connection, transaction

    from svardesk.imports.bulk import commit_without_waiting_for_disk

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    before = setting()
    with transaction.atomic():
        commit_without_waiting_for_disk()
        inside = setting()
    assert (before, inside) == ("on", "off")
