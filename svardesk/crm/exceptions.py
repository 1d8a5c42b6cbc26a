"""Errors the crm services raise; their messages are safe to show a user."""

from __future__ import annotations

from collections.abc import Mapping

from svardesk.core.exceptions import NotFoundError, SvardeskError


class RecordValidationError(SvardeskError):
    """One or more fields of a record are invalid; nothing was saved. `errors` maps a field
    name (as the service's keyword argument is spelled) to a translated message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


class RecordNotFoundError(NotFoundError):
    """A contact, company, deal (or ticket id given to an association) does not exist."""
