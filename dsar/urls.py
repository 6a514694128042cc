from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("requests_app.ops.urls")),  # /healthz, /readyz, /metrics
    path("admin/", admin.site.urls),
    path("accounts/", include("requests_app.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include(("requests_app.urls_staff", "staff"))),
    path("", include("requests_app.drp.urls")),
    path("", include(("requests_app.urls_public", "public"))),
]
