"""A misconfigured identity provider fails at start-up (`manage.py check`), not at the first sign-in."""
from django.conf import settings
from django.core import checks

REQUIRED = ("OIDC_RP_CLIENT_SECRET", "OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT", "OIDC_OP_JWKS_ENDPOINT")


@checks.register(checks.Tags.security)
def oidc_settings(app_configs, **kwargs):
    if not getattr(settings, "OIDC_RP_CLIENT_ID", ""):
        return []
    errors = [checks.Error(f"OIDC_RP_CLIENT_ID is set but {name} is not", id="accounts.E001",
                           hint="Set every OIDC_OP_* endpoint from the provider's discovery document.")
              for name in REQUIRED if not getattr(settings, name, "")]
    if not settings.OIDC_ROLE_MAP:
        errors.append(checks.Error("OIDC_ROLE_MAP is empty: nobody could sign in through the identity provider",
                                   hint='e.g. OIDC_ROLE_MAP="dsar-managers=manager,dsar-analysts=analyst"',
                                   id="accounts.E002"))
    from requests_app.roles import ROLE_PERMISSIONS
    unknown = sorted(set(settings.OIDC_ROLE_MAP.values()) - set(ROLE_PERMISSIONS))
    if unknown:
        errors.append(checks.Error(f"OIDC_ROLE_MAP names unknown roles: {', '.join(unknown)}",
                                   hint=f"Roles are {', '.join(ROLE_PERMISSIONS)}.", id="accounts.E003"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def oidc_reachable(app_configs, **kwargs):
    if not getattr(settings, "OIDC_RP_CLIENT_ID", "") or not getattr(settings, "OIDC_OP_JWKS_ENDPOINT", ""):
        return []
    import requests

    try:
        response = requests.get(settings.OIDC_OP_JWKS_ENDPOINT, timeout=5)
        response.raise_for_status()
        if not response.json().get("keys"):
            raise ValueError("no keys in the JWKS document")
    except Exception as exc:  # noqa: BLE001
        return [checks.Error(f"The identity provider's JWKS endpoint cannot be used: {type(exc).__name__}: {exc}",
                             id="accounts.E004", hint="Check OIDC_OP_JWKS_ENDPOINT and the network.")]
    return []
