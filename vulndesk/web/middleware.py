"""Refuse an oversized request before anything reads its body, and text no field can hold, each
with a message that says why."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# Report intake carries attachments; everything else is small forms and JSON.
_REPORT_PATHS = re.compile(r"^/(p/[^/]+/report/|api/v1/projects/[^/]+/reports)$")


def request_limit(path: str) -> int:
    if _REPORT_PATHS.match(path):
        return int(settings.MAX_REPORT_REQUEST_BYTES)
    return int(settings.MAX_REQUEST_BYTES)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = request_limit(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return too_large(request, length, limit)
        return self.get_response(request)


def too_large(request: HttpRequest, length: int, limit: int) -> HttpResponse:
    reason = (
        f"the request is {length // 1024} KiB; the limit here is {limit // 1024} KiB. "
        "Nothing was stored: shrink or remove attachments, or link to large files instead."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=413)
    return render(request, "web/too_large.html", {"reason": reason}, status=413)


NUL = "\x00"
NUL_REASON = (
    "the request contains a NUL character (U+0000), which no field accepts; nothing was stored. "
    "Remove it and send again."
)


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


class NulCharacterMiddleware:
    """Refuse U+0000 in a path, a query, a form field or a JSON string, with a reason.

    No text field has a use for it, PostgreSQL cannot store it in text, and a refusal here keeps
    every view from meeting it (uploaded files are bytes and are not looked at).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_REASON}, status=400)
            return render(request, "web/refused.html", {"reason": NUL_REASON}, status=400)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if NUL in request.path or any(_holds_nul(k) or _holds_nul(v) for k, v in request.GET.lists()):
            return True
        if request.method not in {"POST", "PUT", "PATCH"}:
            return False
        if request.content_type == "application/json":
            try:
                return _holds_nul(json.loads(request.body or b"null"))
            except (ValueError, UnicodeDecodeError):
                return False  # malformed JSON: the API answers for it with its own reason
        return any(_holds_nul(k) or _holds_nul(v) for k, v in request.POST.lists())
