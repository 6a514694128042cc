from django.urls import path

from . import views

urlpatterns = [
    path("staff/tasks/", views.my_tasks, name="my_tasks"),
    path("staff/tasks/<int:pk>/", views.task_detail, name="task"),
    path("staff/tasks/<int:pk>/reveal/", views.task_reveal, name="task_reveal"),
    path("staff/tasks/<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
    path("staff/tasks/<int:pk>/reassign/", views.task_reassign, name="task_reassign"),
    path("staff/tasks/<int:pk>/vendor-link/", views.task_vendor_link, name="task_vendor_link"),
    path("staff/systems/", views.systems, name="systems"),
    path("staff/systems/new/", views.system_edit, name="system_new"),
    path("staff/systems/<int:pk>/", views.system_edit, name="system_edit"),
    path("staff/cases/<int:pk>/allow-decision/", views.allow_decision, name="allow_decision"),
    path("staff/cases/<int:pk>/package.zip", views.package_preview, name="package_preview"),
    # No account: the signed link is the key.
    path("vendor/<str:token>/", views.vendor, name="vendor"),
    # The requester, from the status page.
    path("status/<str:token>/package/code/", views.package_code, name="package_code"),
    path("status/<str:token>/package/verify/", views.package_verify, name="package_verify"),
    path("status/<str:token>/package/download/", views.package_download, name="package_download"),
]
