"""The core hook points this app relies on: a decision step may refuse or enrich a decision; a
broken page panel never breaks the page."""
import pytest
from django.urls import reverse

from requests_app import hooks, services


def test_it_lets_a_decision_step_refuse_and_enrich(submit, run, manager):
    case = submit("DE", "erasure")
    run(services.confirm_email, case)
    run(services.verify_identity, type(case).objects.get(pk=case.pk), manager, method="log-in")

    def step(case, user, transition, decision, reasons):
        if transition == "deny":
            raise services.ServiceError("not today")
        return {**decision, "actions": ["Accounts: 1 record(s) erased"]}

    hooks.decision_step("test")(step)
    try:
        with pytest.raises(services.ServiceError, match="not today"):
            services.deny(case, manager, reasons="No")
        run(services.fulfil, case, manager, decision={})
        case.refresh_from_db()
        assert case.decision["actions"] == ["Accounts: 1 record(s) erased"]
    finally:
        hooks._DECISION_STEPS.pop("test")


def test_a_broken_panel_does_not_break_the_case_page(client, submit, manager):
    case = submit("DE")

    @hooks.panel("case", "test-broken")
    def broken(request, case, **kw):
        raise RuntimeError("boom")

    try:
        client.force_login(manager)
        assert client.get(reverse("staff:case", args=[case.pk])).status_code == 200
    finally:
        hooks._PANELS["case"].pop("test-broken")
