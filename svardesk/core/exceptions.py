"""Errors every domain app shares. Domain apps define their own <Thing><Problem>Error."""


class SvardeskError(Exception):
    """Base of every error a service raises on purpose; its message is safe to show a user."""


class NotFoundError(SvardeskError):
    """The object does not exist, or the actor may not know it does."""


class PermissionDeniedError(SvardeskError):
    """The actor knows the object exists but may not do this to it."""
