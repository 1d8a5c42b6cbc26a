from django.urls import path

from svardesk.demo import graph, views

app_name = "demo"

urlpatterns = [
    path("website/", views.website, name="website"),
    path("graph/<str:version>/me/messages", graph.send_message, name="graph_send"),
    path("graph/<str:version>/<str:psid>", graph.profile, name="graph_profile"),
]
