from django.urls import URLPattern, URLResolver

app_name = "private_apps"
urlpatterns: list[URLPattern | URLResolver] = []
