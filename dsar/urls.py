from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("fulfilment/", include(("requests_app.fulfilment.urls", "fulfilment"))),
    path("connectors/", include(("requests_app.connectors.urls", "connectors"))),
    path("staff/", include(("requests_app.urls_staff", "staff"))),
    path("", include(("requests_app.urls_public", "public"))),
]
