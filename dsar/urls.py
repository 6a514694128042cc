from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from requests_app import password_reset

urlpatterns = [
    path("", include("requests_app.ops.urls")),  # /healthz, /readyz, /metrics
    path("admin/", admin.site.urls),
    path("accounts/", include("requests_app.accounts.urls")),
    # Password reset e-mails go through the outbox and the rate limits (requests_app/password_reset.py).
    path("accounts/password_reset/", password_reset.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/intake/", include("requests_app.intake.urls")),
    path("intake/", include("requests_app.intake.urls_public")),
    # Other providers' inbound mail reaches the same inbox; only with a webhook secret (anymail
    # alone would accept unauthenticated calls with a warning).
    *([path("anymail/", include("anymail.urls"))] if settings.ANYMAIL.get("WEBHOOK_SECRET") else []),
    path("fulfilment/", include(("requests_app.fulfilment.urls", "fulfilment"))),
    path("api/", include("requests_app.api.urls")),
    path("staff/api-keys/", include("requests_app.api.urls_staff")),
    path("staff/webhooks/", include("requests_app.webhooks.urls_staff")),
    path("connectors/", include(("requests_app.connectors.urls", "connectors"))),
    path("staff/", include(("requests_app.urls_staff", "staff"))),
    path("", include("requests_app.drp.urls")),
    path("", include(("requests_app.urls_public", "public"))),
]
