"""Pages of no single domain: the home page and the health check (the desk home: ``desk/my_work.py``)."""

from __future__ import annotations

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from vulndesk.projects.models import Project


def home(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.order_by("name")
    return render(request, "web/home.html", {"projects": projects})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "database_vendor": connection.vendor})
