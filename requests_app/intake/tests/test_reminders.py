"""Reminders to confirm the e-mail: one 24 hours after arrival, one 2 days before closure, each
exactly once, through the outbox, as a step of the one deadline sweep."""
import datetime as dt
import threading

import pytest
from django.db import connection

from requests_app import services, sweep
from requests_app.models import Event, Notification

T0 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)


def reminders():
    return list(Notification.objects.filter(kind="confirm_reminder").order_by("id")
                .values_list("dedupe_key", flat=True))


def sweep_at(now, moment, django_capture_on_commit_callbacks):
    now(moment)
    with django_capture_on_commit_callbacks(execute=True):
        return sweep.run_sweep(now=moment)


def test_it_reminds_once_after_a_day_and_once_before_closure(submit, now, django_capture_on_commit_callbacks):
    case = submit("DE", "access", requester_email="ana@example.com")
    closes = case.deadlines.get(kind="confirm_email").due_at
    assert sweep_at(now, T0 + dt.timedelta(hours=23), django_capture_on_commit_callbacks) \
        .steps["intake-confirm-reminders"] == {"after-arrival": 0, "before-closure": 0}
    for hours in (25, 26, 48):
        sweep_at(now, T0 + dt.timedelta(hours=hours), django_capture_on_commit_callbacks)
    assert reminders() == [f"confirm_reminder:{case.pk}:after-arrival"]
    for before in (dt.timedelta(days=2), dt.timedelta(days=1), dt.timedelta(hours=1)):
        sweep_at(now, closes - before, django_capture_on_commit_callbacks)
    assert reminders() == [f"confirm_reminder:{case.pk}:after-arrival", f"confirm_reminder:{case.pk}:before-closure"]
    note = Notification.objects.get(dedupe_key=f"confirm_reminder:{case.pk}:before-closure")
    assert note.to == ["ana@example.com"] and "/confirm/" in note.body_text and case.reference in note.subject
    assert Event.objects.filter(case=case, kind="confirm_reminder_sent").count() == 2


def test_it_reminds_nobody_who_confirmed_or_has_no_address(submit, now, run, manager,
                                                          django_capture_on_commit_callbacks):
    confirmed = submit("DE", "access", requester_email="c@example.com")
    run(services.confirm_email, confirmed)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_request(jurisdiction="DE", request_types=["access"], requester_name="P", requester_email="",
                                postal_address="Street 1", channel="post", recorded_by=manager)
    sweep_at(now, T0 + dt.timedelta(days=3), django_capture_on_commit_callbacks)
    assert reminders() == []


def test_requests_filed_together_get_one_reminder(db, now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cases = services.submit_request(jurisdiction="DE", request_types=["access", "erasure"], requester_name="A",
                                        requester_email="ana@example.com")
    sweep_at(now, T0 + dt.timedelta(days=2), django_capture_on_commit_callbacks)
    assert reminders() == [f"confirm_reminder:{cases[0].pk}:after-arrival"]
    body = Notification.objects.get(kind="confirm_reminder").body_text
    assert cases[0].reference in body and cases[1].reference in body


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_reminder_once(now):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (CI runs it)")
    for i in range(5):
        services.submit_request(jurisdiction="DE", request_types=["access"], requester_name="A",
                                requester_email=f"p{i}@example.com")
    moment = T0 + dt.timedelta(days=2)
    now(moment)
    barrier = threading.Barrier(3)
    errors = []

    def one():
        try:
            barrier.wait()
            from requests_app.intake.reminders import send_confirm_reminders

            send_confirm_reminders(moment)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(reminders()) == 5 == len(set(reminders()))
    assert Event.objects.filter(kind="confirm_reminder_sent").count() == 5


def test_a_sweep_with_no_reminder_due_costs_the_step_two_queries(submit, now, django_assert_max_num_queries):
    from requests_app.intake.reminders import send_confirm_reminders

    for i in range(5):
        submit("DE", "access", requester_email=f"p{i}@example.com")
    with django_assert_max_num_queries(2):
        assert send_confirm_reminders(T0 + dt.timedelta(hours=1)) == {"after-arrival": 0, "before-closure": 0}
