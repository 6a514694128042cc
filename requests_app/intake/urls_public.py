from django.urls import path

from . import views_public
from .webhooks import PostmarkInbound

app_name = "intake_public"

urlpatterns = [
    # The privacy address's inbound mail (Postmark); other providers through anymail's own URLs.
    path("inbound/postmark/", PostmarkInbound.as_view(), name="postmark_inbound"),
    path("email-code/", views_public.email_code, name="email_code"),
]
