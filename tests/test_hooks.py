"""The core's hook points: capabilities hear of events after commit and ride the one sweep."""
from requests_app import hooks, services
from requests_app.sweep import run_sweep


def test_it_sends_event_recorded_only_after_commit(submit, django_capture_on_commit_callbacks):
    case = submit("DE")
    seen = []

    def receiver(sender, event, **kw):
        seen.append(event.kind)

    hooks.event_recorded.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.record(case, "note_added", actor_label="system")
        assert seen == []  # not before commit
        for cb in callbacks:
            cb()
        assert seen == ["note_added"]
    finally:
        hooks.event_recorded.disconnect(receiver)


def test_it_isolates_a_failing_receiver(submit, django_capture_on_commit_callbacks):
    case = submit("DE")

    def broken(sender, event, **kw):
        raise RuntimeError("boom")

    hooks.event_recorded.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = services.record(case, "note_added", actor_label="system")
        assert event.pk
    finally:
        hooks.event_recorded.disconnect(broken)


def test_it_runs_every_sweep_step_even_when_one_fails(db):
    calls = []

    @hooks.sweep_step("test-broken")
    def broken(now):
        raise RuntimeError("boom")

    @hooks.sweep_step("test-ok")
    def ok(now):
        calls.append(now)
        return {"done": 1}

    try:
        result = run_sweep()
        assert result.steps["test-broken"] == "error"
        assert result.steps["test-ok"] == {"done": 1}
        assert len(calls) == 1
    finally:
        hooks._SWEEP_STEPS.pop("test-broken")
        hooks._SWEEP_STEPS.pop("test-ok")
