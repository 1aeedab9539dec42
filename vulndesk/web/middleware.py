"""Refuse an oversized request before anything reads its body, with a message that says why."""

from __future__ import annotations

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
