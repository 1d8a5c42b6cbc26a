"""Settings → Import."""

app_name = "imports"

urlpatterns: list = []
