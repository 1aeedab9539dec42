"""Pages that belong to no single domain: the home page, the team desk, and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.invitations import teamless_projects
from vulndesk.projects.models import Project


def home(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.order_by("name")
    return render(request, "web/home.html", {"projects": projects})


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    projects = Project.objects.all() if user.is_admin else Project.objects.filter(memberships__user=user)
    context = {"projects": projects.order_by("name"), "teamless": teamless_projects(user)}
    return render(request, "web/desk.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "database_vendor": connection.vendor})
