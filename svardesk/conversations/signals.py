"""Domain events for apps that keep state in step with a ticket's conversation (the `sla`
app's response timers). Sent inside the service's transaction; conversations never imports
the receivers."""

from django.dispatch import Signal

# message_exchanged: `messages` — (ticket_id, when it was written) for each message of a batch,
# in order — and `direction` (MessageDirection.INBOUND for customers' messages, OUTBOUND for a
# message sent to the customer). Never
# sent for internal comments, automatic messages (transcripts, confirmations) or auto-generated
# inbound mail (auto-replies, bounces), nor for spam.
message_exchanged = Signal()

# Sent after commit with `message_id`, `conversation_id`, `ticket_id` and `kind` ("MESSAGE"
# for a message to or from the customer, "COMMENT" for an internal comment) for every new
# message, inbound or outbound, automatic ones included: for interfaces (webhooks out).
message_created = Signal()
