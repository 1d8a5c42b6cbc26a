from typing import TYPE_CHECKING

from svardesk.core.exceptions import SvardeskError

if TYPE_CHECKING:
    from svardesk.tickets.models import Ticket


class TicketValidationError(SvardeskError):
    """A ticket change breaks a rule; `errors` maps property names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class StaleTicketError(SvardeskError):
    """Someone else changed the ticket after the editor loaded it."""

    def __init__(self, ticket: "Ticket") -> None:
        super().__init__("The ticket was changed by someone else.")
        self.ticket = ticket


class PipelineValidationError(SvardeskError):
    """A pipeline or stage change breaks a rule (empty name, incomplete order)."""


class StageInUseError(SvardeskError):
    """A stage still holds tickets; they must move to another stage first."""


class PipelineInUseError(SvardeskError):
    """A pipeline still holds tickets, or is the last one."""


class PropertyDefinitionError(SvardeskError):
    """A custom property definition breaks a rule (name taken, options missing, …)."""


class SidebarLayoutValidationError(SvardeskError):
    """A sidebar layout names a property that does not exist, or is not a layout at all."""


class TicketMergeError(SvardeskError, ValueError):
    """Two tickets cannot be merged. `code` says why: "same" (one ticket twice), "gone" (a
    ticket was merged away or deleted meanwhile), "not_found" (outside the actor's tickets),
    "too_many" (the tickets already absorbed the most merges a ticket may hold)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code
