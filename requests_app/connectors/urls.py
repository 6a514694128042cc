from django.urls import path

from . import views

urlpatterns = [
    path("staff/systems/<int:system_pk>/connector/", views.connector_edit, name="edit"),
    path("staff/statements/<int:pk>/delete/", views.statement_delete, name="statement_delete"),
    path("staff/runs/<int:pk>/correct/", views.correct, name="correct"),
    path("staff/runs/<int:pk>/<slug:action>/", views.run_action, name="run_action"),  # retry, dry-run, erase, approve
    # No account: the signed URL says which run, the signed body which service.
    path("callback/<str:token>/", views.callback, name="callback"),
]
