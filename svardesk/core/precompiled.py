"""Querysets and annotations compiled to SQL once per process, for statements a hot page
runs on every request.

Django resolves and compiles a queryset's expressions on every evaluation. For a few large
correlated subqueries (the ticket page reads its conversations and association cards as JSON
in the ticket's own statement) that work cost more than the statement itself: ~20 ms of
Python per ticket page against ~8 ms in PostgreSQL. Compiled once, each annotation goes back
into the queryset as `RawSQL`, which costs next to nothing to resolve and compile.

Only for annotations whose SQL depends on nothing but the schema: no request, user or clock
values (the cache key is the name alone). The compiled text refers to the model's table by
its own name (a correlated subquery's `OuterRef("pk")` becomes `"app_model"."id"`), which is
the alias Django gives the base table of every queryset of that model; their inner aliases
(U0, V0, …) are the ones Django would pick for the same expressions under that base table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import RawQuerySet

_compiled: dict[tuple[str, str, str], dict[str, tuple[str, tuple[Any, ...], Field[Any, Any]]]] = {}
_lock = threading.Lock()


def precompiled_annotations(
    model: type[Model],
    name: str,
    build: Callable[[], Mapping[str, Any]],
    *,
    using: str = "default",
) -> dict[str, RawSQL]:
    """`build()`'s annotations for querysets of `model`, compiled on the first call (per
    database vendor) and handed out as `RawSQL` with the same output fields afterwards.
    `name` identifies what `build` returns; it must always return the same expressions."""
    connection = connections[using]
    key = (name, model._meta.label, connection.vendor)
    compiled = _compiled.get(key)
    if compiled is None:
        query = model._default_manager.annotate(**build()).query
        compiler = query.get_compiler(connection=connection)
        compiled = {}
        for alias, expression in query.annotations.items():
            sql, params = compiler.compile(expression)
            compiled[alias] = (sql, tuple(params), expression.output_field)
        with _lock:
            _compiled[key] = compiled
    return {
        alias: RawSQL(sql, params, output_field=output_field)  # noqa: S611 (Django's own SQL)
        for alias, (sql, params, output_field) in compiled.items()
    }


# Stand-ins for the ids while a query is compiled: values no row's id ever takes (negative,
# beyond any sequence), found again among the compiled parameters by value.
_PLACEHOLDER_BASE = -(2**62)

M = TypeVar("M", bound=Model)

_queries: dict[tuple[str, int, str], tuple[str, tuple[Any, ...], dict[int, int]]] = {}


def precompiled_raw(
    model: type[M],
    name: str,
    build: Callable[..., QuerySet[M, M]],
    *ids: int,
    using: str = "default",
) -> RawQuerySet[M]:
    """`build(*ids)` as a raw queryset of `model` instances: compiled once per `name`, number
    of ids and database vendor, with placeholders standing in for the ids, and afterwards
    only run with the ids in their places. (A plain queryset of a small table costs ~3 ms of
    Python to build and compile, ~0.5 ms to run this way.)

    `build` must give the same statement for any ids — no branching on their values — and
    pass each id into the query unchanged (as `pk=`, `user_id=`, `team_id__in=[…]`, …); a
    different number of ids may give a different statement. Deferred fields stay deferred."""
    sql, params = _bound(model, name, build, ids, using)
    return model._default_manager.raw(sql, params, using=using)


def precompiled_rows(
    model: type[Model],
    name: str,
    build: Callable[..., QuerySet[Any, Any]],
    *ids: int,
    using: str = "default",
) -> list[tuple[Any, ...]]:
    """The rows of `build(*ids)`, a `values_list()` query of `model`, compiled as
    `precompiled_raw` compiles. The values come as the driver gives them, with no field's
    conversion: for counts, ids and plain text."""
    sql, params = _bound(model, name, build, ids, using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _bound(
    model: type[Model],
    name: str,
    build: Callable[..., QuerySet[Any, Any]],
    ids: tuple[int, ...],
    using: str,
) -> tuple[str, list[Any]]:
    connection = connections[using]
    key = (name, len(ids), connection.vendor)
    entry = _queries.get(key)
    if entry is None:
        placeholders = [_PLACEHOLDER_BASE - index for index in range(len(ids))]
        queryset = build(*placeholders)
        if queryset.model is not model:
            raise TypeError(f"{name}: the query reads {queryset.model}, not {model}")
        sql, params = queryset.query.get_compiler(connection=connection).as_sql()
        slots = {
            position: placeholders.index(value)
            for position, value in enumerate(params)
            if isinstance(value, int) and value in placeholders
        }
        if set(slots.values()) != set(range(len(ids))):
            raise ValueError(f"{name}: every id must reach the query unchanged")
        entry = (sql, tuple(params), slots)
        with _lock:
            _queries[key] = entry
    sql, params, slots = entry
    bound = list(params)
    for position, index in slots.items():
        bound[position] = ids[index]
    return sql, bound


def forget_precompiled() -> None:
    """Drop every compiled annotation and query (tests that change what they depend on)."""
    with _lock:
        _compiled.clear()
        _queries.clear()
