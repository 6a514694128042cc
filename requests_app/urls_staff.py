from django.urls import path

from .views import staff

urlpatterns = [
    path("", staff.queue, name="queue"),
    path("assign/", staff.bulk_assign, name="bulk_assign"),
    path("cases/<int:pk>/", staff.case_detail, name="case"),
    path("cases/<int:pk>/reveal/", staff.reveal, name="reveal"),
    path("cases/<int:pk>/act/<slug:action>/", staff.case_action, name="case_action"),
    path("cases/<int:pk>/appeals/<int:appeal_pk>/<slug:action>/", staff.appeal_action, name="appeal_action"),
    path("attachments/<int:pk>/", staff.attachment_download, name="attachment"),
    path("letters/<int:pk>/", staff.letter_download, name="letter"),
    path("letters/<int:pk>/<slug:part>/", staff.letter_download, name="letter_part"),
    path("deadlines/", staff.calculator, name="calculator"),
    path("metrics/", staff.metrics, name="metrics"),
    path("config-audit/", staff.config_audit, name="config_audit"),
]
