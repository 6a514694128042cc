from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("requests_app.api.urls")),
    path("staff/api-keys/", include("requests_app.api.urls_staff")),
    path("staff/webhooks/", include("requests_app.webhooks.urls_staff")),
    path("staff/", include(("requests_app.urls_staff", "staff"))),
    path("", include(("requests_app.urls_public", "public"))),
]
