from django.urls import path

from svardesk.tickets import views

app_name = "tickets"

urlpatterns = [
    path("new/", views.create_ticket, name="create"),
    path("new/stages/", views.stage_options, name="stage_options"),
    path("sidebar-layout/", views.save_sidebar_layout, name="sidebar_layout"),
    path("<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("<int:ticket_id>/properties/", views.update_properties, name="update_properties"),
    path("<int:ticket_id>/properties/<slug:name>/", views.edit_property, name="edit_property"),
]
