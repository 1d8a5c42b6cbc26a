"""Announcements that leave after commit, for interfaces (live updates) to listen to.
Domain flow never depends on them."""

from django.dispatch import Signal

# Sent with ticket_id and actor_id (None for the system) after a ticket was created or changed and the change committed.
ticket_changed = Signal()

# Domain events for apps above tickets that keep state in step with a ticket (the `sla` app's
# timers), sent inside the service's transaction so that state commits or rolls back with the
# change. tickets never imports its receivers.
#
# tickets_created: `tickets` (the new Ticket rows, saved), `actor`.
tickets_created = Signal()
# ticket_updated: `ticket` (as saved), `changed` (the names of the properties that changed),
# `now`, `actor` — after update_ticket saved it.
ticket_updated = Signal()
# tickets_moved: `ticket_ids` (those moved), `stage` (where to), `now`, `actor` — after
# move_to_stage.
tickets_moved = Signal()

# Merging (tickets/merge.py): tickets_merging is sent inside the merge's transaction, with
# `target` (the new Ticket, saved), `source_ids` (the two ids being merged, primary first),
# `now` and `actor`, before the old rows are removed: apps above tickets move what they keep
# per ticket (conversations, SLA timers) onto `target`; a receiver that raises rolls the
# whole merge back. tickets_merged follows after commit with `ticket_id`, `merged_ids`
# (every id that now resolves to it) and `actor_id`.
tickets_merging = Signal()
tickets_merged = Signal()
# Sent after commit with `ticket_ids` and `actor_id` once tickets were deleted (the API's
# archive; the rows and their conversations are gone).
tickets_deleted = Signal()
