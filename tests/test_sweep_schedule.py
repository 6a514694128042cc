"""What beat runs, on which queue: timed work on `timers`, PDF rendering on the default queue,
and the daily purge of uploads left by abandoned request forms."""
import datetime as dt
import os
import re
import time

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.files.storage import default_storage

from requests_app import services, tasks, uploads
from requests_app.models import Letter, LetterStatus, Notification, NotificationStatus

from .test_outbox import broker_unreachable

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.timezone.utc)
TIMED = ("requests_app.tasks.sweep",)
MAIL = ("requests_app.tasks.flush_outbox", "requests_app.tasks.send_notification",
        "requests_app.tasks.purge_sent_email_bodies")


def queue_of(task_name: str) -> str:
    """The queue the real Celery app routes a task to (what beat's send_task and .delay() use)."""
    from dsar.celery import app

    return app.amqp.router.route({}, task_name)["queue"].name


def test_timed_work_runs_on_the_timers_queue_mail_on_its_own_and_letters_on_the_default_queue():
    assert django_settings.DSAR_TIMERS_QUEUE == "timers"
    for name in TIMED:
        assert queue_of(name) == "timers", name
    # Deliveries on a queue of their own: a hung mail provider never holds the sweep's worker.
    assert django_settings.DSAR_MAIL_QUEUE == "mail"
    for name in MAIL:
        assert queue_of(name) == "mail", name
    default = django_settings.CELERY_TASK_DEFAULT_QUEUE
    assert default == "celery"
    for name in ("requests_app.tasks.render_letter_task", "requests_app.tasks.render_pending_letters",
                 "requests_app.tasks.purge_pending_uploads"):
        assert queue_of(name) == default, name


def test_beat_schedule(settings):
    from celery.schedules import crontab

    from dsar.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["deadline-sweep"]["task"] == "requests_app.tasks.sweep"
    assert schedule["deadline-sweep"]["schedule"] == settings.DSAR_SWEEP_SECONDS == 300
    # The outbox flush on the timers queue never renders PDFs; its letter half runs beside it.
    flush = schedule["outbox-flush"]
    assert flush["task"] == "requests_app.tasks.flush_outbox" and flush["schedule"] == 60
    assert flush["kwargs"] == {"render_letters": False}
    assert schedule["letters-flush"]["task"] == "requests_app.tasks.render_pending_letters"
    assert schedule["letters-flush"]["schedule"] == 60
    purge = schedule["purge-pending-uploads"]
    assert purge["task"] == "requests_app.tasks.purge_pending_uploads"
    assert purge["schedule"] == crontab(hour=3, minute=17)  # daily, UTC
    app.loader.import_default_modules()  # what a worker does at start: every app's tasks module
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)


@pytest.mark.parametrize("path, patterns", [
    ("run.sh", [r"celery -A dsar worker --beat -Q celery,timers,mail "]),
    # In production the mail queue has workers of its own, so a hung provider never holds the sweep.
    ("docker-compose.yml", [r"command: celery -A dsar worker -Q celery,timers ", r"command: celery -A dsar worker -Q mail "]),
])
def test_the_workers_we_ship_consume_every_queue(path, patterns):
    text = (django_settings.BASE_DIR / path).read_text()
    for pattern in patterns:
        assert re.search(pattern, text), f"{path}: the workers must consume celery, timers and mail"


def test_the_timers_flush_leaves_letters_to_the_default_queue(submit, run):
    with broker_unreachable(), time_machine.travel(T0, tick=False):
        case = submit("US-CA", "access")  # confirmation e-mail: publishing fails, it stays pending
        run(services.confirm_email, case)  # acknowledgement letter and its e-mail: both stay pending
    letter = Letter.objects.get(case=case, kind="acknowledgement")
    mail.outbox.clear()

    # What beat runs on the timers queue: e-mails only; the one that carries the letter waits.
    assert tasks.flush_outbox(render_letters=False) == {"rendered": 0, "sent": 1, "failed": 0}
    letter.refresh_from_db()
    assert letter.status == LetterStatus.PENDING and len(mail.outbox) == 1
    # What beat runs on the default queue: renders the letter, then sends what waited for it.
    assert tasks.render_pending_letters.delay().get() == {"rendered": 1, "sent": 1, "failed": 0}
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED
    assert len(mail.outbox) == 2 and mail.outbox[1].attachments[0][0].endswith("acknowledgement.pdf")
    assert not Notification.objects.filter(status=NotificationStatus.PENDING).exists()


def test_daily_purge_removes_uploads_of_abandoned_forms_only(db):
    upload = services.Upload(name="document.pdf", content=b"%PDF-1.4 test", content_type="application/pdf")
    old, fresh = uploads.park(upload, "id.pdf"), uploads.park(upload, "id.pdf")
    two_days_ago = time.time() - 2 * 86400  # the file's own clock: time_machine does not move mtimes
    os.utime(default_storage.path(old["key"]), (two_days_ago, two_days_ago))

    assert tasks.purge_pending_uploads.delay().get() == 1
    assert not default_storage.exists(old["key"]) and default_storage.exists(fresh["key"])
    assert uploads.unpark(fresh).content == upload.content  # a form still being filled keeps its file
    assert tasks.purge_pending_uploads() == 0
