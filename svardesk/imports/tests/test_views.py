"""Settings → Import: upload, mapping with a preview and per-column checks, the background
job (run at once here), progress, the error CSV, and who may use it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from svardesk.crm.models import Contact
from svardesk.imports.models import ImportJob, ImportStatus

pytestmark = pytest.mark.django_db

CSV = (
    "Email;Förnamn;Telefon;Extra\n"
    "anna@example.com;Anna;070-123 45 67;x\n"
    "bad-email;Bo;;x\n"
    "carl@example.com;Carl;12;x\n"
).encode("utf-8-sig")


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.fixture
def tasks_now():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


def upload(client, content: bytes = CSV, name: str = "kunder.csv", object_type="contacts"):
    return client.post(
        reverse("imports:home"),
        {"object_type": object_type, "file": SimpleUploadedFile(name, content, "text/csv")},
    )


def test_upload_map_start_and_see_the_counts(
    client, super_admin, tasks_now, django_capture_on_commit_callbacks
):
    client.force_login(super_admin)

    response = upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:job", args=[job.pk])
    assert job.mapping == ["email", "firstname", "", ""]  # by label, English and Swedish

    page = client.get(reverse("imports:job", args=[job.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "anna@example.com" in html
    assert "1 invalid value" in html  # the email column: "bad-email"

    checked = client.post(
        reverse("imports:check", args=[job.pk]),
        {"column-0": "email", "column-1": "firstname", "column-2": "phone", "column-3": ""},
    )
    assert checked.status_code == 200
    assert checked.content.decode().count("1 invalid value") == 2  # email and phone

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("imports:job", args=[job.pk]),
            {"column-0": "email", "column-1": "firstname", "column-2": "phone", "column-3": ""},
        )
    assert started.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 1, 0, 2)
    assert Contact.objects.get().phone == "+46701234567"

    progress = client.get(reverse("imports:progress", args=[job.pk]))
    assert "hx-trigger" not in progress.content.decode()  # finished: no more polling

    errors = client.get(reverse("imports:errors", args=[job.pk]))
    body = b"".join(errors.streaming_content).decode("utf-8-sig")
    assert errors["Content-Disposition"].startswith('attachment; filename="kunder-errors.csv"')
    assert body.splitlines()[0] == "Email,Förnamn,Telefon,Extra,Error"
    assert "bad-email" in body
    assert "carl@example.com" in body

    listing = client.get(reverse("imports:home")).content.decode()
    assert "kunder.csv" in listing


def test_a_running_job_page_polls_its_progress(client, super_admin):
    client.force_login(super_admin)
    upload(client)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, total=10, rows_done=4)

    html = client.get(reverse("imports:job", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in html
    assert 'value="40"' in html


def test_a_mapping_without_a_required_column_is_refused(client, super_admin):
    client.force_login(super_admin)
    upload(client, b"Domain\nacme.se\n", "firmor.csv", "companies")
    job = ImportJob.objects.get()

    response = client.post(reverse("imports:job", args=[job.pk]), {"column-0": "domain"})

    assert response.status_code == 422
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image.csv", "not a CSV file"),
        (b"a,b\n1,2\n", "data.xlsx", "Choose a CSV file"),
        (b"", "empty.csv", "empty"),
    ],
    ids=["binary", "not-csv-name", "empty"],
)
def test_a_file_that_is_no_csv_is_refused_with_a_clear_error(
    client, super_admin, content, name, message
):
    client.force_login(super_admin)

    response = upload(client, content, name)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_oversized_file_is_refused(client, super_admin, settings, tmp_path):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    client.force_login(super_admin)

    response = upload(client, b"email\n" + b"a@example.com\n" * 100_000)

    assert response.status_code == 422
    assert "larger than 1 MB" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not list((tmp_path / "imports").glob("*.csv"))


def test_only_super_admins_may_import(client, agent, super_admin):
    client.force_login(super_admin)
    upload(client)
    job = ImportJob.objects.get()
    client.force_login(agent)

    urls = [
        reverse("imports:home"),
        reverse("imports:job", args=[job.pk]),
        reverse("imports:progress", args=[job.pk]),
        reverse("imports:errors", args=[job.pk]),
    ]
    assert [client.get(url).status_code for url in urls] == [403, 403, 403, 403]
    assert upload(client).status_code == 403
    assert client.post(urls[1], {"column-0": "email"}).status_code == 403
    assert ImportJob.objects.count() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING


def test_an_uploaded_file_is_deleted_once_its_import_is_done(
    client, super_admin, tasks_now, django_capture_on_commit_callbacks
):
    from pathlib import Path

    client.force_login(super_admin)
    upload(client)
    job = ImportJob.objects.get()
    assert Path(job.file_path).is_file()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job", args=[job.pk]), {"column-0": "email"})

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert not Path(job.file_path).exists()
    assert Path(job.error_path).is_file()  # the failed rows stay downloadable
