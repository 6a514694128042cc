"""A role given or taken away by the identity provider's claim at sign-in is in the configuration
audit (who may see personal data changed); a sign-in that changes no role adds nothing."""
import pytest
from django.contrib.auth.models import User

from requests_app.accounts.oidc import RoleMappingBackend
from requests_app.models import ConfigChange
from tests.config_audit import only_entry


@pytest.fixture
def backend(settings, db):
    settings.OIDC_RP_CLIENT_ID = "dsar"
    settings.OIDC_RP_CLIENT_SECRET = "not-used-here"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/me"
    settings.OIDC_ROLE_MAP = {"dsar-managers": "manager", "dsar-auditors": "auditor"}
    return RoleMappingBackend()


def test_it_audits_the_roles_the_identity_provider_gives_and_takes(backend):
    claims = {"sub": "abc", "email": "mia@corp.example", "groups": ["dsar-auditors"]}
    user = backend.create_user(claims)
    entry = only_entry(actor=None, actor_label="identity provider", action="roles_changed",
                       object_type="auth.user", object_id=str(user.pk))
    assert entry.fields == ["groups"] and entry.data == {"roles": ["auditor"], "before": []}
    backend.update_user(User.objects.get(pk=user.pk), claims)  # the same roles: nothing to record
    assert ConfigChange.objects.count() == 1
    backend.update_user(User.objects.get(pk=user.pk), {**claims, "groups": ["dsar-managers"]})
    change = ConfigChange.objects.exclude(pk=entry.pk).get()
    assert change.data == {"roles": ["manager"], "before": ["auditor"]}
