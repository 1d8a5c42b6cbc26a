from django.urls import URLPattern, URLResolver, path

from svardesk.webhooks import views

app_name = "webhooks"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.webhook_list, name="list"),
    path("new/", views.webhook_create, name="create"),
    path("<int:pk>/", views.webhook_detail, name="detail"),
    path("<int:pk>/edit/", views.webhook_edit, name="edit"),
    path("<int:pk>/active/", views.webhook_set_active, name="set_active"),
    path("<int:pk>/test/", views.webhook_test, name="test"),
    path("<int:pk>/secret/", views.webhook_new_secret, name="new_secret"),
    path("<int:pk>/delete/", views.webhook_delete, name="delete"),
    path("<int:pk>/deliveries/", views.delivery_log, name="log"),
    path("<int:pk>/deliveries/<int:delivery_pk>/retry/", views.delivery_retry, name="retry"),
]
