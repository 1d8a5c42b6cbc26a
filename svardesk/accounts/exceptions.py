from svardesk.core.exceptions import SvardeskError


class UserValidationError(SvardeskError):
    """A user change breaks a rule (email taken, main team not a membership, …)."""


class LoginThrottledError(SvardeskError):
    """Too many failed sign-ins for this address or client; try again later."""
