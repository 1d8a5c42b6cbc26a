"""The settings area (super admins): users, teams, pipelines, properties, the create form."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path

from svardesk.core.decorators import super_admin_required
from svardesk.workspace.settings import (
    create_form,
    inboxes,
    outgoing_mail,
    pipelines,
    properties,
    teams,
    users,
)

app_name = "settings"


@super_admin_required
def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("settings:users")


urlpatterns = [
    path("", settings_home, name="home"),
    # Users and seats
    path("users/", users.user_list, name="users"),
    path("users/new/", users.user_create, name="user_create"),
    path("users/<int:pk>/", users.user_edit, name="user_edit"),
    # Teams
    path("teams/", teams.team_list, name="teams"),
    path("teams/new/", teams.team_create, name="team_create"),
    path("teams/<int:pk>/rename/", teams.team_rename, name="team_rename"),
    path("teams/<int:pk>/delete/", teams.team_delete, name="team_delete"),
    # Pipelines and statuses
    path("pipelines/", pipelines.pipeline_list, name="pipelines"),
    path("pipelines/new/", pipelines.pipeline_create, name="pipeline_create"),
    path("pipelines/<int:pk>/rename/", pipelines.pipeline_rename, name="pipeline_rename"),
    path("pipelines/<int:pk>/delete/", pipelines.pipeline_delete, name="pipeline_delete"),
    path("pipelines/<int:pk>/statuses/new/", pipelines.stage_add, name="stage_add"),
    path("statuses/<int:pk>/", pipelines.stage_edit, name="stage_edit"),
    path("statuses/<int:pk>/move/", pipelines.stage_move, name="stage_move"),
    path("statuses/<int:pk>/delete/", pipelines.stage_delete, name="stage_delete"),
    # Ticket properties
    path("properties/", properties.property_list, name="properties"),
    path("properties/new/", properties.property_create, name="property_create"),
    path("properties/<int:pk>/", properties.property_edit, name="property_edit"),
    path("properties/<int:pk>/delete/", properties.property_delete, name="property_delete"),
    # The "Create ticket" form
    path("create-form/", create_form.create_form, name="create_form"),
    # Inboxes, and moving a channel with its conversations into the help desk
    path("inboxes/", inboxes.inbox_list, name="inboxes"),
    path("inboxes/new/", inboxes.inbox_create, name="inbox_create"),
    path("inboxes/<int:pk>/rename/", inboxes.inbox_rename, name="inbox_rename"),
    path(
        "inboxes/channels/<int:channel_id>/migrate/", inboxes.channel_migrate, name="inbox_migrate"
    ),
    path("inboxes/migrations/<int:pk>/", inboxes.migration_detail, name="inbox_migration"),
    path(
        "inboxes/migrations/<int:pk>/progress/",
        inboxes.migration_progress,
        name="inbox_migration_progress",
    ),
    # Outgoing mail kept instead of sent (no SVARDESK_SMTP_URL)
    path("outgoing-mail/", outgoing_mail.outgoing_mail_list, name="outgoing_mail"),
    path(
        "outgoing-mail/<int:pk>/", outgoing_mail.outgoing_mail_detail, name="outgoing_mail_detail"
    ),
    path(
        "outgoing-mail/<int:pk>/html/", outgoing_mail.outgoing_mail_html, name="outgoing_mail_html"
    ),
    path("outgoing-mail/<int:pk>/raw/", outgoing_mail.outgoing_mail_raw, name="outgoing_mail_raw"),
]
