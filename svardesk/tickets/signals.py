"""Announcements that leave after commit, for interfaces (live updates) to listen to.
Domain flow never depends on them."""

from django.dispatch import Signal

# Sent with ticket_id and actor_id (None for the system) after a ticket was created or changed and the change committed.
ticket_changed = Signal()
