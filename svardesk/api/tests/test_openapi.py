"""The OpenAPI document: valid OpenAPI, served publicly, and in step with the URL resolver —
every API route is documented with exactly the methods it answers, and every documented
path reaches a route (not the catch-all 404)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from svardesk.api import urls as api_urls
from svardesk.api.http import unknown_path
from svardesk.api.openapi.document import build_document

METHODS = ("get", "post", "put", "patch", "delete")
# Workspace pages that live in the API app (HTML, session auth): not part of the API.
NOT_API_PREFIXES = ("settings/",)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document("http://testserver")


def _join_route(route1: str, route2: str) -> str:
    # As django.urls.resolvers.URLResolver joins them into ResolverMatch.route.
    if not route1:
        return route2
    return route1 + route2.removeprefix("^")


def api_routes(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """(ResolverMatch.route, pattern) of every route under svardesk.api.urls."""
    for entry in api_urls.urlpatterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from api_routes(list(entry.url_patterns), _join_route(prefix, str(entry.pattern)))
        else:
            yield _join_route(prefix, str(entry.pattern)), entry


def documented_api_routes() -> dict[str, URLPattern]:
    return {
        route: pattern
        for route, pattern in api_routes()
        if pattern.callback is not unknown_path and not route.startswith(NOT_API_PREFIXES)
    }


def sample_paths(document: dict[str, Any], template: str) -> list[str]:
    """Concrete paths for a documented template: every enum value of each path parameter
    (so each object type is checked), else its example or "1"."""
    operations = document["paths"][template]
    choices: dict[str, list[str]] = {}
    for operation in (operations[m] for m in METHODS if m in operations):
        for param in operation.get("parameters", []):
            if param["in"] != "path":
                continue
            schema = param["schema"]
            choices[param["name"]] = [str(v) for v in schema.get("enum", [])] or [
                str(schema.get("example", "1"))
            ]
    names = re.findall(r"{([^}]+)}", template)
    paths = []
    for values in itertools.product(*(choices[name] for name in names)):
        path = template
        for name, value in zip(names, values, strict=True):
            path = path.replace("{" + name + "}", value)
        paths.append(path)
    return paths


def test_the_document_is_valid_openapi(document):
    schema = schemathesis.openapi.from_dict(document)

    schema.validate()  # the OpenAPI 3.0 meta-schema; raises on any violation
    assert document["openapi"].startswith("3.0")
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == sum(
        1 for item in document["paths"].values() for method in item if method in METHODS
    )


def test_every_reference_resolves_and_every_operation_id_is_unique(document):
    text = json.dumps(document)
    for target in set(re.findall(r'"\$ref": "#/components/([^/]+)/([^"]+)"', text)):
        section, name = target
        assert name in document["components"][section], target
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(ids) == len(set(ids))


def test_each_path_template_declares_exactly_its_path_parameters(document):
    for template, item in document["paths"].items():
        in_template = set(re.findall(r"{([^}]+)}", template))
        for method in (m for m in METHODS if m in item):
            declared = {p["name"] for p in item[method].get("parameters", []) if p["in"] == "path"}
            assert declared == in_template, (method, template)


def test_every_operation_documents_its_auth_errors_and_a_success(document):
    for template, item in document["paths"].items():
        for method in (m for m in METHODS if m in item):
            operation = item[method]
            codes = set(operation["responses"])
            assert codes & {"200", "201", "204"}, (method, template)
            if operation.get("security") == []:
                continue
            assert {"401", "403", "429"} <= codes, (method, template)


def test_status_codes_follow_the_contract(document):
    paths = document["paths"]

    def codes(template: str, method: str) -> set[str]:
        return {c for c in paths[template][method]["responses"] if c.startswith("2")}

    assert codes("/crm/v3/objects/tickets", "post") == {"201"}
    assert codes("/crm/v3/objects/tickets/{ticketId}", "get") == {"200"}
    assert codes("/crm/v3/objects/tickets/{ticketId}", "delete") == {"204"}
    assert codes("/crm/v3/objects/tickets/batch/create", "post") == {"201", "207"}
    assert codes("/crm/v3/objects/tickets/batch/read", "post") == {"200", "207"}
    assert codes("/crm/v3/objects/tickets/batch/archive", "post") == {"204"}
    assert codes("/crm/v3/objects/tickets/merge", "post") == {"200"}
    assert codes("/crm/v3/objects/contacts/gdpr-delete", "post") == {"204"}
    v4 = "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}"
    assert codes(v4, "put") == {"201"}
    assert codes(v4, "delete") == {"204"}
    assert codes("/crm/v3/pipelines/{objectType}", "post") == {"201"}
    assert codes("/crm/v3/properties/{objectType}", "post") == {"201"}
    assert codes("/conversations/v3/conversations/threads/{threadId}/messages", "post") == {"201"}


def test_the_document_is_served_without_a_token(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    served = json.loads(response.content)
    assert served["servers"] == [{"url": "http://testserver"}]
    assert served["paths"].keys() == build_document()["paths"].keys()
    assert served["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_documented_path_reaches_an_api_route(document):
    resolver = get_resolver(api_urls.__name__)
    routes = documented_api_routes()
    for template in document["paths"]:
        for path in sample_paths(document, template):
            match = resolver.resolve(path)
            assert match.func is not unknown_path, f"{path} ({template}) reaches no route"
            assert match.route in routes, (path, match.route)


def test_every_api_route_is_documented(document):
    resolver = get_resolver(api_urls.__name__)
    reached = {
        resolver.resolve(path).route
        for template in document["paths"]
        for path in sample_paths(document, template)
    }

    undocumented = sorted(set(documented_api_routes()) - reached)

    assert undocumented == [], f"API routes missing from the OpenAPI document: {undocumented}"


@pytest.mark.django_db(transaction=True)
def test_each_route_answers_exactly_its_documented_methods(document, make_token, super_admin):
    """Black-box: a documented method never answers 405; any other method always does."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(super_admin)}")
    wrong: list[str] = []
    for template, item in document["paths"].items():
        path = sample_paths(document, template)[0]
        for method in METHODS:
            if method == "get":
                response = client.get(path)
            else:
                response = getattr(client, method)(path, data="{}", content_type="application/json")
            if method in item and response.status_code == 405:
                wrong.append(f"{method.upper()} {path}: documented, answers 405")
            elif method not in item and response.status_code != 405:
                wrong.append(
                    f"{method.upper()} {path}: undocumented, answers {response.status_code}"
                )
    assert wrong == []
