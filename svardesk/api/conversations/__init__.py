"""Conversations v3 (`/conversations/v3/conversations/…`): inboxes, channels, channel
accounts, threads, messages and actors, over Svardesk's conversations.

How HubSpot's terms map onto Svardesk:

| HubSpot | Svardesk |
|---|---|
| inbox (`HELP_DESK` / `INBOX`) | `conversations.Inbox` (kind help desk / conversations inbox) |
| channel (generic id) | a `ChannelKind`, see the table below |
| channel account | a connected `conversations.Channel` (an email address, a chat widget…) |
| thread | a `conversations.Conversation` |
| message `MESSAGE` / `COMMENT` | a `conversations.Message` (customer message or reply / comment) |
| actor `A-<id>` / `V-<id>` / `E-<address>` | a user / a contact / an email address |

Generic channel ids (1000 to 1002 are HubSpot's; 1003 and 1004 are Svardesk's choice):

| id | channel | `ChannelKind` |
|---|---|---|
| 1000 | Live chat | chat |
| 1001 | Facebook Messenger | messenger |
| 1002 | Email | email |
| 1003 | Forms | form |
| 1004 | Calls | call |

A thread's status is its ticket's: OPEN while the ticket is in an open stage, CLOSED in a
closed one (`closedAt` is the ticket's close date). Setting CLOSED moves the ticket to the
first closed stage of its pipeline, OPEN to the first open one (both through
`tickets.services.move_to_stage`, on the ticket's timeline). A thread without a ticket is
OPEN and its status cannot change. The assignee is the ticket's owner. Deleting a thread puts
it in the trash (`Conversation.archived_at`): it leaves the lists, its ticket and messages
stay, and `PATCH ?archived=true {"archived": false}` restores it. A thread is visible when
its ticket is (`tickets.queries.visible_tickets`); one without a ticket only to users who
see every ticket.
"""
