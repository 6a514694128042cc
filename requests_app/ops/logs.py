"""Structured logs with a request id that follows a request into the Celery tasks it causes.

The id comes from the client's `X-Request-ID` (a load balancer's) when it is a plain token, else a
new one; it is echoed in the response, put on every log record (RequestIdFilter) and carried to
tasks as a message header, so one grep finds a filing, its confirmation e-mail and its letter."""
from __future__ import annotations

import contextvars
import logging
import re
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun

request_id = contextvars.ContextVar("request_id", default="-")
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # never log a header an attacker shaped into a fake line
HEADER = "request_id"


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if _VALID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


@before_task_publish.connect(dispatch_uid="ops-request-id-publish")
def _add_header(headers=None, **kwargs):
    rid = request_id.get()
    if headers is not None and rid != "-":
        headers.setdefault(HEADER, rid)


_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect(dispatch_uid="ops-request-id-prerun")
def _enter_task(task_id=None, task=None, **kwargs):
    rid = (getattr(task.request, HEADER, None) or (task.request.headers or {}).get(HEADER)) if task else None
    _tokens[task_id] = request_id.set(rid or f"task-{task_id}")


@task_postrun.connect(dispatch_uid="ops-request-id-postrun")
def _leave_task(task_id=None, **kwargs):
    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)
