from django.urls import path

from svardesk.conversations import views

app_name = "conversations"

urlpatterns = [
    path("tickets/<int:ticket_id>/reply/", views.reply, name="reply"),
    path("tickets/<int:ticket_id>/comment/", views.comment, name="comment"),
    path("tickets/<int:ticket_id>/thread/", views.thread, name="thread"),
    path("tickets/<int:ticket_id>/spam/", views.mark_spam, name="spam"),
    path("tickets/<int:ticket_id>/not-spam/", views.mark_not_spam, name="not_spam"),
    path("messages/<int:message_id>/retry/", views.retry, name="retry"),
    path("messages/<int:message_id>/images/", views.message_images, name="message_images"),
    path("attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("mentions/", views.mention_search, name="mentions"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
    path(
        "notifications/<int:notification_id>/open/",
        views.open_notification,
        name="open_notification",
    ),
    path("notifications/read-all/", views.read_all_notifications, name="read_all"),
]
