"""Every API error is JSON: ``{"code": "...", "message": "...", "fields": {...}?}``.

The services' refusals keep their own words: a Conflict (someone changed the case) is 409, any
other ServiceError (the law or the state refuses) is 422, a Django ValidationError is 400 with
the fields it names, a PermissionDenied 403."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .. import regimes as R
from .. import services


class ApiError(exceptions.APIException):
    def __init__(self, message: str, code: str, status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(message, code)
        self.status_code = status_code


def _body(code: str, message: str, fields=None) -> dict:
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


def _flat(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flat(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_flat(v)}" for k, v in detail.items())
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, services.Conflict):
        return Response(_body("conflict", str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, services.ServiceError):
        return Response(_body("refused", str(exc)), status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(_body("invalid", "The request is not valid: " + _flat(fields), fields),
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, R.RegimeError):
        return Response(_body("invalid", str(exc)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You may not do this.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling (logged)
    if isinstance(exc, exceptions.ValidationError):
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = _body("invalid", "The request is not valid: " + _flat(fields), fields)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        response.data = _body(code, _flat(exc.detail))
    return response
