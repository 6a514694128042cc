import pytest

from requests_app import services
from requests_app.fulfilment.models import DataSystem
from tests.fixtures import make_user


@pytest.fixture
def owner(db):
    return make_user("olga", "analyst")


@pytest.fixture
def datamap(owner):
    """A small marketplace: two of our systems, a processor worked through a vendor link, and a
    marketing system that only opt-outs concern."""
    return {
        "accounts": DataSystem.objects.create(
            name="Accounts", owner=owner, categories=["identifiers", "customer_records", "sensitive"],
            request_kinds=["access", "deletion", "correction"], sources="You, when you register",
            purposes="Setting up and administering your account", recipients="Our cloud hosting provider"),
        "orders": DataSystem.objects.create(
            name="Orders", owner=owner, categories=["commercial"], request_kinds=["access", "deletion"],
            sources="Your purchases on the platform", purposes="Processing transactions and payments",
            recipients="Sellers on the platform"),
        "courier": DataSystem.objects.create(
            name="Courier", kind="processor", vendor_name="FastShip Ltd", vendor_email="dpo@fastship.example",
            work_mode="vendor", categories=["identifiers", "geolocation"], request_kinds=["access", "deletion"],
            sources="Delivery tracking", purposes="Delivering your orders", recipients="Logistics partners"),
        "marketing": DataSystem.objects.create(
            name="Marketing", owner_email="growth@example.com", categories=["inferences"],
            request_kinds=["opt_out"]),
    }


@pytest.fixture
def worked(submit, run, manager):
    """A case taken to the point where it can be worked (confirmed and, unless an opt-out, verified),
    every on-commit side effect run, so the fulfilment app has fanned it out."""
    def _worked(jurisdiction="US-CA", request_type="access", **kw):
        case = submit(jurisdiction, request_type, **kw)
        run(services.confirm_email, case)
        case.refresh_from_db()
        if case.state == "verifying":
            run(services.verify_identity, case, manager, method="account log-in")
        case.refresh_from_db()
        return case
    return _worked


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
