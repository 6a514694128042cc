"""The one place the core hands work to Celery: by task name, so services, letters and the outbox
never import tasks.py (tasks call services, not the reverse).

Publishing is best effort and bounded in time: the durable record is always a database row (a
pending Notification or Letter) that beat's flush picks up, so a broker that is down, or that
accepts the connection and never answers, costs at most DSAR_PUBLISH_TIMEOUT seconds and is only
logged: the person whose request was just committed never sees an error (a retry would file a
duplicate)."""
from __future__ import annotations

import importlib
import logging
import threading

from django.conf import settings

log = logging.getLogger(__name__)

SEND_NOTIFICATION = "requests_app.tasks.send_notification"
RENDER_LETTER = "requests_app.tasks.render_letter_task"
SEND_STATUS_LINK = "requests_app.tasks.send_status_link"


def _app():
    from dsar.celery import app

    return app


def send_task(name: str, *args, what: str = "") -> bool:
    """Publish task `name` with `args`; True if the broker took it. Never raises.
    Eager mode (tests, demo without a worker) runs the task inline, as `.delay()` would."""
    return send_tasks(name, [args], what=what) == 1


def send_tasks(name: str, arg_lists: list[tuple], *, what: str = "") -> int:
    """Publish task `name` once per tuple of `arg_lists`, over one broker connection and within one
    DSAR_PUBLISH_TIMEOUT for all (the sweep publishes a digest per recipient: a thread and a
    connection each cost ~2 ms, bench/sweep.py). Returns how many the broker took; never raises."""
    app = _app()
    if app.conf.task_always_eager:
        if name not in app.tasks:  # the worker imports task modules at start; inline, import it by name
            importlib.import_module(name.rsplit(".", 1)[0])
        for args in arg_lists:
            app.tasks[name].apply(args=args, throw=app.conf.task_eager_propagates)
        return len(arg_lists)
    done = threading.Event()
    failure: list[BaseException] = []
    sent = [0]

    def _publish():
        try:
            with app.producer_or_acquire() as producer:
                for args in arg_lists:
                    app.send_task(name, args=args, producer=producer)
                    sent[0] += 1
        except Exception as exc:  # noqa: BLE001 - reported below, never to the caller
            failure.append(exc)
        finally:
            done.set()

    # A daemon thread: a publish stuck on a silent broker is abandoned after the timeout (its socket
    # timeouts end it later) instead of holding the web request or the sweep.
    threading.Thread(target=_publish, name=f"publish-{name}", daemon=True).start()
    if not done.wait(settings.DSAR_PUBLISH_TIMEOUT):
        log.warning("broker unavailable (no answer in %ss); %s waits for the next flush",
                    settings.DSAR_PUBLISH_TIMEOUT, what or name)
        return 0
    if failure:
        log.warning("broker unavailable; %s waits for the next flush", what or name, exc_info=failure[0])
    return sent[0]


def send_notification(notification_id: int) -> bool:
    return send_task(SEND_NOTIFICATION, notification_id, what=f"notification {notification_id} (outbox)")


def send_notifications(notification_ids: list[int]) -> int:
    return send_tasks(SEND_NOTIFICATION, [(pk,) for pk in notification_ids],
                      what=f"{len(notification_ids)} notification(s) (outbox)")


def render_letter(letter_id: int) -> bool:
    return send_task(RENDER_LETTER, letter_id, what=f"letter {letter_id} (rendering)")


def send_status_link(reference: str, email: str) -> bool:
    return send_task(SEND_STATUS_LINK, reference, email, what="a status-link request")
