"""The one way side effects leave a service: after the surrounding transaction commits."""

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction


def after_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Run func(*args, **kwargs) once the current transaction commits (now if there is none).

    Nothing runs when the transaction rolls back, so a failed change never sends mail,
    enqueues work or notifies a browser.
    """
    transaction.on_commit(partial(func, *args, **kwargs), robust=True)
