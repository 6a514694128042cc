from django.contrib import admin
from django.urls import include, path

from requests_app import password_reset

urlpatterns = [
    path("admin/", admin.site.urls),
    # Password reset e-mails go through the outbox and the rate limits (requests_app/password_reset.py).
    path("accounts/password_reset/", password_reset.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include(("requests_app.urls_staff", "staff"))),
    path("", include(("requests_app.urls_public", "public"))),
]
