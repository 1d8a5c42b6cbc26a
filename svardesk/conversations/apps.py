from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "svardesk.conversations"
    label = "conversations"
