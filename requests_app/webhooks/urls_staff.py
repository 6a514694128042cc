from django.urls import path

from . import staff_views

app_name = "webhooks_staff"

urlpatterns = [
    path("", staff_views.subscriptions, name="subscriptions"),
    path("<int:pk>/", staff_views.subscription, name="subscription"),
    path("<int:pk>/active/", staff_views.toggle, name="toggle"),
    path("<int:pk>/deliveries/<int:delivery_pk>/redeliver/", staff_views.redeliver, name="redeliver"),
]
