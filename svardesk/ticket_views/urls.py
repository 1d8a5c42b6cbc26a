from django.urls import path

from svardesk.ticket_views import views

app_name = "ticket_views"

urlpatterns = [
    path("tickets/", views.all_tickets, name="all"),
    path("views/<slug:key>/", views.view_tickets, name="view"),
    path("sidebar/counts/", views.sidebar_counts, name="sidebar_counts"),
]
