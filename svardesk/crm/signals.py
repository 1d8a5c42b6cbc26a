"""What crm announces to the apps above it (sent after the transaction commits)."""

from django.dispatch import Signal

# Sent with primary_id, merged_id, ticket_ids (the tickets the merged contact was on, now
# the survivor's) and actor_id once a contact merge has committed: the rows pointing at the
# merged contact (tickets, conversations) already point at the survivor; receivers refresh
# what they keep about them (tickets announce ticket_changed for live pages).
contacts_merged = Signal()
# As contacts_merged, for companies.
companies_merged = Signal()

# Record lifecycle, sent after commit for interfaces (webhooks out) to listen to; the domain
# flow never depends on them. Each carries `object_type` ("contact", "company", "deal"),
# `object_id` and `actor_id`; record_changed also `changed` — {property name: new plain
# value} for the properties that changed.
record_created = Signal()
record_changed = Signal()
record_deleted = Signal()
