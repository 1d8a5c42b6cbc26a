"""What crm announces to the apps above it (sent after the transaction commits)."""

from django.dispatch import Signal

# Sent with primary_id and merged_id once a contact merge has committed: the rows pointing
# at the merged contact (tickets, conversations) already point at the survivor; receivers
# refresh what they keep about them (search documents, caches).
contacts_merged = Signal()
# As contacts_merged, for companies.
companies_merged = Signal()
