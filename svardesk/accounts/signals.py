"""Announcements that leave after commit, for interfaces (the workspace's live sockets) to
listen to. Domain flow never depends on them."""

from django.dispatch import Signal

# Sent with user_ids after a change to what those users may see or do committed: their
# teams, ticket access, seat, super admin rights, being active, their password.
access_changed = Signal()
