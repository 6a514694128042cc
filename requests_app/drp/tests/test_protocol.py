"""The DRP rules that need no HTTP: directory schemas (§3.05), exercise and regime mapping (§3.01)."""
import jsonschema
import pytest

from requests_app import regimes as R
from requests_app.drp import protocol as P
from requests_app.drp import services
from requests_app.drp.agent_client import AgentClient
from requests_app.drp.models import Agent
from requests_app.selectors import DENIAL_BASES


def entry(**overrides):
    return AgentClient("PERMISSION_SLIP").directory_entry(**overrides)


def test_it_validates_every_registered_agent_against_the_directory_schema(db):
    services.register_agent(entry())
    services.register_agent(AgentClient("OTHER_AGENT").directory_entry())
    for agent in Agent.objects.all():
        jsonschema.validate(agent.directory_entry, P.AGENT_SCHEMA)
        assert agent.directory_entry["verify_key"] == agent.verify_key


@pytest.mark.parametrize("overrides, complaint", [
    ({"id": "lowercase"}, "id"),
    ({"verify_key": "!!!"}, "verify_key"),
    ({"verify_key": "c2hvcnQ="}, "32-byte"),  # base64 of "short": not an Ed25519 key
    ({"web_url": "http://agent.example.org"}, "web_url"),
    ({"name": 42}, "name"),
    ({"name": ""}, "name"),
    ({"name": "N" * 201}, "longer than 200"),
])
def test_it_refuses_a_directory_entry_the_schema_or_the_key_rejects(db, overrides, complaint):
    with pytest.raises(ValueError, match=complaint):
        services.register_agent(entry(**overrides))
    assert not Agent.objects.exists()


def test_it_needs_an_email_contact_for_the_agent(db):
    with pytest.raises(ValueError, match="e-mail"):
        services.register_agent(entry(business_contact="call us", technical_contact="+1 555"))


def test_it_revokes_old_tokens_when_the_key_is_rotated(db):
    agent = services.register_agent(entry())
    agent.tokens.create(token_hash="0" * 64)
    services.register_agent(AgentClient("PERMISSION_SLIP").directory_entry())  # a new key
    assert not agent.tokens.exists()


def test_it_describes_our_business_with_the_business_directory_schema(settings):
    settings.DRP_BUSINESS_ID = "AE_PRIVACY"
    settings.SITE_URL = "https://privacy.example.com"
    jsonschema.validate(services.business_entry(), P.BUSINESS_SCHEMA)
    assert "sale:opt-out" in services.business_entry()["supported_actions"]


EXPECTED = {  # (DRP regime, exercise) -> (jurisdiction, request type)
    ("ccpa", "sale:opt-out"): ("US-CA", "opt_out_sale_sharing"),
    ("ccpa", "sale:opt_out"): ("US-CA", "opt_out_sale_sharing"),
    ("ccpa", "access"): ("US-CA", "access"),
    ("ccpa", "access:categories"): ("US-CA", "access"),
    ("ccpa", "access:specific"): ("US-CA", "access"),
    ("ccpa", "deletion"): ("US-CA", "deletion"),
    ("ccpa", "correction"): ("US-CA", "correction"),
    ("cpa", "sale:opt-out"): ("US-CO", "opt_out"),
    ("ctdpa", "deletion"): ("US-CT", "deletion"),
    ("vcdpa", "access:specific"): ("US-VA", "access"),
    ("ucpa", "sale:opt_out"): ("US-UT", "opt_out"),
    ("ucpa", "access"): ("US-UT", "access"),
}


@pytest.mark.parametrize("regime, exercise", sorted(EXPECTED))
def test_it_maps_each_exercise_to_the_regime_request_type(regime, exercise):
    target = P.target(exercise, regime, None)
    assert (target.jurisdiction, target.request_type) == EXPECTED[regime, exercise]
    assert target.exercise == P.SPELLINGS.get(exercise, exercise)


def test_it_maps_to_request_types_each_regime_really_offers():
    for regime, table in P.EXERCISES.items():
        offered = R.jurisdiction(P.REGIME_JURISDICTIONS[regime]).regime.request_type_codes
        assert set(table.values()) <= set(offered), regime
        assert R.AGENT in R.jurisdiction(P.REGIME_JURISDICTIONS[regime]).regime.filers


@pytest.mark.parametrize("exercise, regime, address", [
    ("sale:opt-in", "ccpa", None),          # known to DRP, but no request type of ours re-consents to sale
    ("sale:opt_in", "ccpa", None),
    ("delete-everything", "ccpa", None),
    ("", "ccpa", None),
    ("correction", "ucpa", None),           # Utah Code 13-61-201 gives no right to correct
    ("access", "gdpr", None),               # agents file only under the US laws that allow them
    ("access", None, None),                 # no regime and no address: nothing says which law applies
    ("access", None, {"region": "NV", "country": "US"}),  # Nevada's law gives agents no standing
])
def test_it_refuses_exercises_and_regimes_we_cannot_file(exercise, regime, address):
    with pytest.raises(P.DrpError) as exc:
        P.target(exercise, regime, address)
    assert exc.value.status == 400


def test_it_takes_the_regime_from_the_address_claim_when_none_is_given():
    target = P.target("deletion", None, {"region": "co", "country": "US"})
    assert (target.drp_regime, target.jurisdiction) == ("cpa", "US-CO")


def test_it_maps_every_denial_basis_to_a_drp_reason():
    assert set(services.DENIAL_REASONS) == set(DENIAL_BASES)
    assert set(services.DENIAL_REASONS.values()) <= {"suspected_fraud", "insuf_verification", "no_match",
                                                      "claim_not_covered", "outside_jurisdiction",
                                                      "too_many_requests", "other"}
