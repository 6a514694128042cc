from django.urls import path

from . import views

app_name = "drp"

urlpatterns = [
    path(".well-known/gpc.json", views.gpc, name="gpc"),
    path("v1/agent/<str:agent_id>", views.agent, name="agent"),
    path("v1/data-rights-request", views.exercise, name="exercise"),
    path("v1/data-rights-request/", views.exercise),  # before 0.9.3 the URL had a trailing slash (§2.01)
    path("v1/data-rights-request/<uuid:request_id>", views.request_detail, name="request"),
    path("drp/verify/<uuid:request_id>/", views.verify, name="verify"),
    path("staff/drp/agents/", views.agents, name="agents"),
    path("staff/drp/agents/<str:agent_id>/remove/", views.agent_remove, name="agent_remove"),
    path("staff/drp/agents/<str:agent_id>/retry/", views.agent_retry, name="agent_retry"),
]
