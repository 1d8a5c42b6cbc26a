"""Annotations compiled to SQL once per process, for statements a hot page runs on every
request.

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
from typing import Any

from django.db import connections
from django.db.models import Field, Model
from django.db.models.expressions import RawSQL

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


def forget_precompiled() -> None:
    """Drop every compiled annotation (tests that change the schema they depend on)."""
    with _lock:
        _compiled.clear()
