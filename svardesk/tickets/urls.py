from django.urls import path

from svardesk.tickets import views

app_name = "tickets"

# The ticket page and its in-place edits are composed above the domain apps
# (workspace/ticket_page.py); config/urls.py mounts them in this namespace.

urlpatterns = [
    path("new/", views.create_ticket, name="create"),
    path("new/stages/", views.stage_options, name="stage_options"),
    path("sidebar-layout/", views.save_sidebar_layout, name="sidebar_layout"),
]
