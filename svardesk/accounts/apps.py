from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "svardesk.accounts"
    label = "accounts"
