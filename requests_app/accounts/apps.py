from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff sign-in: the company's identity provider (OpenID Connect) with roles from a claim,
    TOTP two-factor for password sign-in, and sign-out everywhere."""

    name = "requests_app.accounts"
    label = "accounts"
    verbose_name = "Staff sign-in"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, sessions  # noqa: F401 - registers checks and the login signal receiver
