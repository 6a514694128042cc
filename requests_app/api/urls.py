from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/requests/", views.RequestList.as_view(), name="requests"),
    path("v1/requests/<int:pk>/", views.RequestDetail.as_view(), name="request"),
    *[path(f"v1/requests/<int:pk>/{name.replace('_', '-')}/", views._action_view(name), name=f"request-{name}")
      for name in views.CASE_ACTIONS],
    *[path(f"v1/requests/<int:pk>/appeals/<int:appeal_pk>/{name.replace('_', '-')}/", views._appeal_view(name),
           name=f"appeal-{name}") for name in views.APPEAL_ACTIONS],
    path("v1/events/", views.EventList.as_view(), name="events"),
    path("v1/calculator/", views.Calculator.as_view(), name="calculator"),
    path("v1/metrics/ccpa/", views.Metrics.as_view(), name="metrics"),
    re_path(r"^v1/", views.not_found),  # unknown API paths get the JSON error too, not an HTML page
]
