"""The inbound-mail webhook: anymail's Postmark view, with two stricter rules.

- No WEBHOOK_SECRET configured means every call is refused (anymail alone would only warn and
  accept anyone's mail into the inbox).
- A payload anymail cannot parse is kept raw in the inbox with the error instead of a 500 that the
  provider would retry and finally drop.

Authentication stays anymail's (HTTP basic auth, constant-time compare): a forged call raises
AnymailWebhookValidationFailure, which Django answers with 400 and logs on django.security.
Other providers reach the same inbox through anymail's own URLs and its inbound signal.
"""
from __future__ import annotations

import warnings

from anymail.exceptions import AnymailInsecureWebhookWarning, AnymailWebhookValidationFailure
from anymail.webhooks.postmark import PostmarkInboundWebhookView

from . import services


class PostmarkInbound(PostmarkInboundWebhookView):
    def __init__(self, **kwargs):
        with warnings.catch_warnings():  # we refuse instead of warning, below
            warnings.simplefilter("ignore", AnymailInsecureWebhookWarning)
            super().__init__(**kwargs)

    def validate_request(self, request):
        if not self.basic_auth:
            raise AnymailWebhookValidationFailure("Inbound webhook refused: ANYMAIL WEBHOOK_SECRET is not set")

    def parse_events(self, request):
        try:
            return super().parse_events(request)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the message must not be lost
            raw = request.body.decode("utf-8", errors="replace")
            services.store_unparseable(self.esp_name, raw, f"{type(exc).__name__}: {exc}")
            return []
