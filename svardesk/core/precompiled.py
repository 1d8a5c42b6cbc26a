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
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import RawQuerySet, get_related_populators
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

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
_TEXT_PLACEHOLDER = "\x1fsvardesk-placeholder-{index}\x1f"  # text no key or hash holds

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
        _queryset, _compiler, sql, params, slots = _compile(model, name, build, ids, connection)
        if set(slots.values()) != set(range(len(ids))):
            raise ValueError(f"{name}: every id must reach the query unchanged")
        entry = (sql, params, slots)
        with _lock:
            _queries[key] = entry
    sql, params, slots = entry
    return sql, _bind(params, slots, ids)


def _compile(
    model: type[Model],
    name: str,
    build: Callable[..., QuerySet[Any, Any]],
    values: tuple[int | str, ...],
    connection: Any,
) -> tuple[QuerySet[Any, Any], SQLCompiler, str, tuple[Any, ...], dict[int, int]]:
    """`build` run with a stand-in for each value, compiled; and where each value's stand-in
    landed among the statement's parameters (position -> index of the value)."""
    placeholders: list[int | str] = [
        _TEXT_PLACEHOLDER.format(index=index)
        if isinstance(value, str)
        else _PLACEHOLDER_BASE - index
        for index, value in enumerate(values)
    ]
    queryset = build(*placeholders)
    if queryset.model is not model:
        raise TypeError(f"{name}: the query reads {queryset.model}, not {model}")
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    slots = {
        position: placeholders.index(value)
        for position, value in enumerate(params)
        if type(value) in (int, str) and value in placeholders
    }
    return queryset, compiler, sql, tuple(params), slots


def _bind(params: tuple[Any, ...], slots: dict[int, int], values: tuple[Any, ...]) -> list[Any]:
    bound = list(params)
    for position, index in slots.items():
        bound[position] = values[index]
    return bound


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class _CompiledObjects:
    sql: str
    params: tuple[Any, ...]
    slots: dict[int, int]  # parameter position -> index of the value that goes there
    compiler: SQLCompiler  # its select list and converters turn rows into objects
    init_list: list[str]
    fields: slice
    related: list[Any]
    annotations: dict[str, int]


_objects: dict[tuple[str, tuple[type, ...], str], _CompiledObjects] = {}


def precompiled_objects(
    model: type[M],
    name: str,
    build: Callable[..., QuerySet[M, M]],
    *values: int | str,
    using: str = "default",
) -> list[M]:
    """The model instances of `build(*values)`, select_related objects and annotations
    included, as Django's own iterator makes them (each field's conversion applied), from a
    statement compiled once per `name`, kinds of values and database vendor. A private-app
    token with its user: 1.2 ms as a queryset, ~0.3 ms this way.

    `values` are ids or text as the database stores them (a hash, a key), each passed into
    the query unchanged; the same rules as `precompiled_raw` otherwise."""
    if any(isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX for value in values):
        # No 64-bit column holds it (an id from a URL may have any number of digits): no row,
        # as Django answers such a lookup, instead of the driver's overflow error.
        return []
    connection = connections[using]
    key = (name, tuple(type(value) for value in values), connection.vendor)
    entry = _objects.get(key)
    if entry is None:
        entry = _compile_objects(model, name, build, values, connection)
        with _lock:
            _objects[key] = entry
    if (
        entry.compiler.query.select_for_update
        and connection.features.has_select_for_update
        and connection.get_autocommit()
    ):
        # Django checks this while compiling; a statement compiled before is checked here.
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    with connection.cursor() as cursor:
        cursor.execute(entry.sql, _bind(entry.params, entry.slots, values))
        rows = cursor.fetchall()
    found: list[M] = []
    for row in entry.compiler.results_iter([rows]):
        obj = model.from_db(using, entry.init_list, row[entry.fields])
        for populator in entry.related:
            populator.populate(row, obj)
        for attribute, position in entry.annotations.items():
            setattr(obj, attribute, row[position])
        found.append(obj)
    return found


def _compile_objects(
    model: type[Model],
    name: str,
    build: Callable[..., QuerySet[Any, Any]],
    values: tuple[int | str, ...],
    connection: Any,
) -> _CompiledObjects:
    queryset, compiler, sql, params, slots = _compile(model, name, build, values, connection)
    if sorted(slots.values()) != list(range(len(values))):
        raise ValueError(f"{name}: every value must reach the query unchanged, once")
    if (
        compiler.col_count != len(compiler.select)
        or getattr(queryset, "_known_related_objects", None)
        or getattr(queryset, "_prefetch_related_lookups", None)  # would be left out silently
    ):
        raise ValueError(f"{name}: only plain selects, select_related and annotations")
    klass_info = compiler.klass_info
    selected = klass_info["select_fields"]
    start, end = selected[0], selected[-1] + 1
    return _CompiledObjects(
        sql=sql,
        params=params,
        slots=slots,
        compiler=compiler,
        init_list=[column[0].target.attname for column in compiler.select[start:end]],
        fields=slice(start, end),
        # Django 5.2's signature; the type stubs already describe a later release's.
        related=get_related_populators(  # type: ignore[call-arg]
            klass_info, compiler.select, connection.alias
        ),
        annotations=dict(compiler.annotation_col_map),
    )


def forget_precompiled() -> None:
    """Drop every compiled annotation and query (tests that change what they depend on)."""
    with _lock:
        _compiled.clear()
        _queries.clear()
        _objects.clear()
