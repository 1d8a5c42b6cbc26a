from django.urls import path

from svardesk.ticket_views import views

app_name = "ticket_views"

urlpatterns = [
    path("tickets/", views.all_tickets, name="all"),
    path("tickets/bulk/", views.bulk_update, name="bulk"),
    path("views/new/", views.create_view, name="create"),
    path("views/criteria/", views.criteria, name="criteria"),
    path("views/custom-<int:pk>/", views.custom_view_tickets, name="custom"),
    path("views/custom-<int:pk>/edit/", views.edit_view, name="edit"),
    path("views/custom-<int:pk>/delete/", views.delete_view, name="delete"),
    path("views/<slug:key>/", views.view_tickets, name="view"),
    path("sidebar/counts/", views.sidebar_counts, name="sidebar_counts"),
]
