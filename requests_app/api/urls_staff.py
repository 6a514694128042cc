from django.urls import path

from . import staff_views

app_name = "api_staff"

urlpatterns = [
    path("", staff_views.keys, name="keys"),
    path("<int:pk>/", staff_views.key_detail, name="key"),
    path("<int:pk>/revoke/", staff_views.revoke, name="revoke"),
]
