"""Keyset (cursor) pagination: a page costs one query whatever its depth, and an opaque cursor
survives rows being added before it. Unlike DRF's CursorPagination it returns a cursor on the
last page too, so a sync client can come back later for what happened since.

A view sets ``cursor_fields``: ``("pk",)`` or ``(<nullable ordering field>, "pk")``, the latter
ordered ascending with NULLs last (the queue's "most urgent first")."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.db.models import Q
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .errors import ApiError


def encode(values: list) -> str:
    text = json.dumps([v.isoformat() if isinstance(v, dt.datetime) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, n: int) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != n or not isinstance(values[-1], int):
            raise ValueError
        if n == 2 and values[0] is not None:
            values[0] = dt.datetime.fromisoformat(values[0])
            if values[0].tzinfo is None:
                raise ValueError
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError("The cursor is not one this API gave out.", "invalid_cursor") from None


def after(fields: tuple[str, ...], values: list) -> Q:
    if len(fields) == 1:
        return Q(pk__gt=values[0])
    field, value, pk = fields[0], values[0], values[1]
    if value is None:
        return Q(**{f"{field}__isnull": True, "pk__gt": pk})
    return (Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk})
            | Q(**{f"{field}__isnull": True}))


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.fields = getattr(view, "cursor_fields", ("pk",))
        self.request = request
        try:
            size = min(max(int(request.query_params.get("page_size", self.page_size)), 1), self.max_page_size)
        except ValueError:
            raise ApiError("page_size must be a whole number.", "invalid") from None
        self.cursor = request.query_params.get(self.cursor_query_param) or None
        if self.cursor:
            queryset = queryset.filter(after(self.fields, decode(self.cursor, len(self.fields))))
        rows = list(queryset[:size + 1])
        self.has_more = len(rows) > size
        rows = rows[:size]
        if rows:
            last = rows[-1]
            self.next_cursor = encode([getattr(last, f) for f in self.fields])
        else:
            self.next_cursor = self.cursor
        return rows

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        return Response({
            "next_cursor": self.next_cursor,
            "has_more": self.has_more,
            "next": replace_query_param(url, self.cursor_query_param, self.next_cursor) if self.has_more else None,
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next_cursor", "has_more", "next", "results"],
            "properties": {
                "next_cursor": {"type": "string", "nullable": True,
                                "description": "Pass as ?cursor= to continue (also after the last page)"},
                "has_more": {"type": "boolean"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "in": "query", "required": False,
             "description": "The next_cursor of the previous page", "schema": {"type": "string"}},
            {"name": "page_size", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size}},
        ]
