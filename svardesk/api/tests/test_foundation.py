"""The API's shared layer: authentication, errors for unknown paths, timestamps."""

import datetime as dt

from svardesk.api.http import iso


def test_iso_timestamps_have_milliseconds_and_z():
    moment = dt.datetime(2024, 5, 1, 10, 0, 0, 883_999, tzinfo=dt.UTC)
    assert iso(moment) == "2024-05-01T10:00:00.883Z"
    stockholm = dt.timezone(dt.timedelta(hours=2))
    assert iso(dt.datetime(2024, 5, 1, 12, 0, tzinfo=stockholm)) == "2024-05-01T10:00:00.000Z"


def test_an_unknown_api_path_answers_hubspots_404_body(raw_api):
    answer = raw_api.get("/crm/v3/nothing-here")
    assert answer.status == 404
    assert answer.body["category"] == "OBJECT_NOT_FOUND"
    assert answer.body["status"] == "error"
    assert answer.headers["Content-Type"].startswith("application/json")
