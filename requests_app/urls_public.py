from django.urls import path

from .views import public

urlpatterns = [
    path("", public.start, name="start"),
    path("confirm/<str:token>/", public.confirm, name="confirm"),
    path("status/<str:token>/", public.status, name="status"),
]
