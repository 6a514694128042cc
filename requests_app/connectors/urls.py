from django.urls import path

from . import views

urlpatterns = [
    path("staff/systems/<int:system_pk>/connector/", views.connector_edit, name="edit"),
    path("staff/statements/<int:pk>/delete/", views.statement_delete, name="statement_delete"),
    path("staff/runs/<int:pk>/retry/", views.retry, name="retry"),
    path("staff/runs/<int:pk>/dry-run/", views.dry_run, name="dry_run"),
    path("staff/runs/<int:pk>/erase/", views.request_erasure, name="request_erasure"),
    path("staff/runs/<int:pk>/approve/", views.approve, name="approve"),
    path("staff/runs/<int:pk>/correct/", views.correct, name="correct"),
    # No account: the signed URL says which run, the signed body which service.
    path("callback/<str:token>/", views.callback, name="callback"),
]
