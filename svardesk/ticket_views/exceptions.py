from svardesk.core.exceptions import PermissionDeniedError, SvardeskError


class CustomViewValidationError(SvardeskError):
    """A custom view breaks a rule; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class CustomViewLimitError(SvardeskError):
    """The help desk already has as many custom views as CUSTOM_VIEW_LIMIT allows."""


class CustomViewPermissionError(PermissionDeniedError):
    """Only users with the Custom views permission (and super admins) change views."""
