"""The Jinja2 templates (core/jinja.py, decision 0008): drawn from Django templates with their
context, escaping what is not marked safe, translating through Django's catalogues, and
drawing `fixed` blocks once per language."""

import datetime as dt

import pytest
from django.template import Context, Template, engines
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from svardesk.core import jinja


def _jinja(source: str, **values):
    return engines["jinja2"].from_string(source).render(values)


def test_a_django_template_draws_a_jinja2_one_with_its_context_escaped():
    template = Template(
        '{% load jinja_tags %}<p>{% jinja "ticket_views/partials/_state_inputs.html" '
        "skip_cols=True %}</p>"
    )

    class State:
        q = '"><script>alert(1)</script>'
        quick = {"owner": "me"}
        sort = "-priority"
        columns = "name,stage"

    html = template.render(Context({"state": State(), "encoded_filters": ["a&b"]}))

    assert html.startswith("<p><input")  # the Jinja2 markup is not escaped a second time
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert '<input type="hidden" name="owner" value="me">' in html
    assert 'name="f" value="a&amp;b"' in html
    assert 'name="cols"' not in html  # the tag's own value reached the template


def test_values_marked_safe_by_django_print_as_they_are_and_others_are_escaped():
    html = _jinja("{{ safe }}|{{ text }}", safe=mark_safe("<b>ok</b>"), text="<b>no</b>")
    assert html == "<b>ok</b>|&lt;b&gt;no&lt;/b&gt;"


def test_a_missing_value_or_an_attribute_of_one_prints_nothing_as_in_django_templates():
    assert _jinja("[{{ missing }}][{{ missing.attribute.deeper }}]") == "[][]"


def test_strings_are_translated_from_django_catalogues_with_placeholders_filled_and_escaped():
    source = '{{ _("Skip to content") }}|{{ _("Counts as of %(time)s")|format(time=t) }}'
    with translation.override("sv"):
        html = _jinja(source, t="<12:00>")
    assert html.startswith("Hoppa till innehållet|")
    assert "&lt;12:00&gt;" in html
    assert "<12:00>" not in html


def test_a_fixed_block_is_drawn_once_per_language(monkeypatch):
    monkeypatch.setattr(jinja, "_fixed", {})
    drawn = []

    def count(text):
        drawn.append(text)
        return text

    source = '{% call fixed("test:skip") %}{{ count(_("Skip to content")) }}{% endcall %}'
    with translation.override("en"):
        first = _jinja(source, count=count)
        again = _jinja(source, count=count)
    with translation.override("sv"):
        swedish = _jinja(source, count=count)

    assert first == again == "Skip to content"
    assert swedish == "Hoppa till innehållet"
    assert drawn == ["Skip to content", "Hoppa till innehållet"]


@override_settings(DEBUG=True)
def test_a_fixed_block_is_drawn_every_time_while_developing(monkeypatch):
    monkeypatch.setattr(jinja, "_fixed", {})
    drawn = []
    source = '{% call fixed("test:debug") %}{{ count() }}{% endcall %}'
    _jinja(source, count=lambda: drawn.append(1) or "x")
    _jinja(source, count=lambda: drawn.append(1) or "x")
    assert len(drawn) == 2


def test_times_are_shown_in_the_current_time_zone_as_django_filters_show_them():
    moment = dt.datetime(2026, 12, 7, 11, 30, 5, tzinfo=dt.UTC)
    with timezone.override("Europe/Stockholm"):
        assert _jinja('{{ when|time("H:i:s") }}', when=moment) == "12:30:05"
        assert _jinja('{{ when|date("Y-m-d H:i") }}', when=moment) == "2026-12-07 12:30"
    with timezone.override("America/New_York"):
        assert _jinja('{{ when|time("H:i") }}', when=moment) == "06:30"


def test_urls_and_static_paths():
    html = _jinja("{{ url('ticket_views:edit', 7) }} {{ static('workspace/app.css') }}")
    assert html == "/views/custom-7/edit/ /static/workspace/app.css"


@pytest.mark.parametrize("name", ["bell", "chat"])
def test_a_django_template_drawn_from_jinja2_is_not_escaped_again(name):
    html = _jinja(
        '{{ django_template("conversations/partials/_icon.html", name=name) }}', name=name
    )
    assert html.startswith("<svg")
    assert "&lt;" not in html


def test_a_django_partial_included_from_jinja2_sees_the_whole_context():
    html = _jinja(
        '{{ django_include("tickets/partials/_owner_picker.html") }}',
        ticket={"owner_id": 3, "owner": {"display_name": "Ann <Admin>"}},
    )
    assert 'value="3"' in html
    assert 'value="Ann &lt;Admin&gt;"' in html
    assert "&lt;div" not in html  # drawn once, not escaped by Jinja2 again


def test_maybe_url_is_empty_where_url_would_fail():
    assert _jinja("[{{ maybe_url('ticket_views:view', '<script>') }}]") == "[]"
    assert _jinja("{{ maybe_url('ticket_views:view', 'all-open') }}") == "/views/all-open/"


def test_linebreaksbr_escapes_then_breaks_lines_and_leaves_safe_values_alone():
    assert _jinja("{{ text|linebreaksbr }}", text="a<b>\nc") == "a&lt;b&gt;<br>c"
    assert _jinja("{{ text|linebreaksbr }}", text=mark_safe("<i>a</i>\nb")) == "<i>a</i><br>b"


def test_an_app_registers_filters_for_every_environment_made_before_or_after(monkeypatch):
    monkeypatch.setattr(jinja, "_app_filters", {})
    monkeypatch.setattr(jinja, "_environments", [])
    before = jinja.environment()
    jinja.register_filters(shout=lambda text: f"{text}!")
    after = jinja.environment()
    for env in (before, after):
        assert env.from_string("{{ 'hej'|shout }}").render() == "hej!"
    # the tickets app's own, registered at start-up
    assert "change_reading" in engines["jinja2"].env.filters
