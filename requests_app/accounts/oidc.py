"""OpenID Connect sign-in (mozilla-django-oidc) with the staff role taken from a claim.

OIDC_ROLE_CLAIM names the claim (default "groups"); OIDC_ROLE_MAP maps its values to our roles,
e.g. "dsar-managers=manager,dsar-analysts=analyst,dsar-auditors=auditor". A person with no mapped
value is refused: the identity provider says who they are, our map says whether they may see
personal data. Roles are re-synced at every sign-in, so removing someone from a group in the
company's directory removes their access at their next sign-in."""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from requests_app import configaudit
from requests_app.roles import ROLE_PERMISSIONS, ensure_roles

IDP = "identity provider"  # the configuration audit's actor for roles synced from the claim

log = logging.getLogger(__name__)


def roles_from_claims(claims: dict) -> set[str]:
    values = claims.get(settings.OIDC_ROLE_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    mapping = settings.OIDC_ROLE_MAP
    return {mapping[v] for v in values if v in mapping and mapping[v] in ROLE_PERMISSIONS}


class RoleMappingBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims):
        if not super().verify_claims(claims):
            return False
        if not roles_from_claims(claims):
            log.warning("OIDC sign-in refused for %s: no mapped role in claim %r",
                        claims.get("sub"), settings.OIDC_ROLE_CLAIM)
            return False
        return True

    def filter_users_by_claims(self, claims):
        sub = claims.get("sub")
        return self.UserModel.objects.filter(username=self.get_username(claims)) if sub else self.UserModel.objects.none()

    def get_username(self, claims):
        # The subject is the stable identifier (an e-mail can be reassigned to someone else).
        return f"oidc:{claims['sub']}"[:150]

    def create_user(self, claims):
        user = self.UserModel.objects.create_user(self.get_username(claims), claims.get("email", ""))
        user.set_unusable_password()  # signs in through the identity provider only
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user, claims):
        user.email = claims.get("email", user.email)
        user.first_name = (claims.get("given_name") or claims.get("name") or "")[:150]
        user.last_name = (claims.get("family_name") or "")[:150]
        user.is_staff = False  # Django admin is for superusers only
        user.save()
        groups = ensure_roles()
        wanted = roles_from_claims(claims)
        had = set(user.groups.filter(name__in=ROLE_PERMISSIONS).values_list("name", flat=True))
        user.groups.remove(*[g for name, g in groups.items() if name not in wanted])
        user.groups.add(*[groups[name] for name in wanted])
        if had != wanted:  # a role given or taken away is a change of who may see personal data
            configaudit.record(user, "roles_changed", actor=IDP, fields=["groups"],
                               data={"roles": sorted(wanted), "before": sorted(had)})
        return user


def is_configured() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def group_names() -> list[str]:
    return list(Group.objects.filter(name__in=ROLE_PERMISSIONS).values_list("name", flat=True))


def context(request):
    """The sign-in page offers the identity provider when one is configured."""
    return {"oidc_enabled": is_configured()}
