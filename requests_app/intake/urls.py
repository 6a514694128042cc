from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("new/", views.new_request, name="new"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<uuid:public_id>/", views.message_detail, name="message"),
    path("inbox/<uuid:public_id>/<slug:action>/", views.message_action, name="message_action"),
    path("blocked/", views.blocked, name="blocked"),
    path("blocked/<int:pk>/lift/", views.lift, name="lift"),
]
