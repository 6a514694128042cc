"""Fuzz the API against its own OpenAPI schema: no 500s, every status documented, every
response conforming to the schema. A bounded number of examples keeps it well under a minute."""
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from requests_app import services

from .helpers import confirmed, key_client

# Examples and random fuzzing only: the exhaustive coverage phase alone takes minutes.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}})
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def keep_connection():
    """Schemathesis calls the WSGI app itself, which closes the database connection at the end of
    each request (it is not in autocommit inside the test's transaction); Django's test client
    prevents that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def manager_key(db, manager, keep_connection):
    client = key_client("fuzz", "manager")
    for jurisdiction in ("US-CA", "DE", "US-CO"):  # ids 1-3 exist, so fuzzed actions reach the services
        services.assign(confirmed(jurisdiction), manager, client.user)
    return client.raw


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_it_answers_every_fuzzed_call_as_its_schema_says(case, manager_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {manager_key}"}, checks=CHECKS)
