"""The list of projects on the home page, a project's public pages, and its policy editor on the team desk."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.views import reauthentication_needed
from vulndesk.projects.access import access_project, access_public_project, default_project
from vulndesk.projects.actions import do_record_release, do_update_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import PolicyError
from vulndesk.projects.policy_editor import PolicyEditor, compare_revisions
from vulndesk.projects.policy_form import sections
from vulndesk.projects.releases import PackageError, version_table
from vulndesk.projects.rendering import policy_context, render_security_md, render_security_txt


def home(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.order_by("name")
    return render(request, "projects/home.html", {"projects": projects})


def policy_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_public_project(slug)
    return render(request, "projects/policy.html", policy_context(project))


def security_md(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_public_project(slug)
    return HttpResponse(render_security_md(project), content_type="text/markdown; charset=utf-8")


def security_txt(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_public_project(slug)
    is_default = project == default_project()
    return HttpResponse(
        render_security_txt(project, is_default=is_default), content_type="text/plain; charset=utf-8"
    )


def well_known_security_txt(request: HttpRequest) -> HttpResponse:
    project = default_project()
    if project is None:
        return HttpResponse("No project is configured yet.\n", status=404, content_type="text/plain")
    return HttpResponse(
        render_security_txt(project, is_default=True), content_type="text/plain; charset=utf-8"
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit_policy(request: HttpRequest, slug: str) -> HttpResponse:
    """The policy editor: a form per section or the whole TOML, a SECURITY.md preview, history."""
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_POLICY_EDIT)
    source = request.POST if request.method == "POST" else request.GET
    section = source.get("section", "")
    editor = PolicyEditor(project, section if section in dict(sections()) else "")
    if request.method == "POST":
        candidate = editor.take(request.POST)
        if candidate is not None and request.POST.get("action") != "preview":
            confirm = reauthentication_needed(request, reverse("project-policy-edit", args=[slug]))
            if confirm is not None:
                return confirm
            try:
                do_update_policy(project, candidate, acting_user=user)
            except PolicyError as exc:
                editor.fail(exc, request.POST)
            else:
                messages.success(request, f"Policy saved as version {project.policy_version}.")
                where = reverse("project-policy-edit", args=[slug])
                return redirect(where + (f"?section={editor.section}" if editor.section else ""))
    revisions = project.policy_revisions.select_related("changed_by")[:20]
    return render(
        request,
        "projects/policy_edit.html",
        {"project": project, "editor": editor, "sections": sections(), "revisions": revisions},
        status=400 if editor.has_problems else 200,
    )


@login_required
@require_GET
def policy_diff(request: HttpRequest, slug: str) -> HttpResponse:
    """What changed between two saved versions of a policy, line by line of its TOML."""
    project = access_project(slug, signed_in_user(request), Permission.PROJECT_POLICY_EDIT)
    comparison = compare_revisions(project, request.GET.get("from", ""), request.GET.get("to", ""))
    return render(request, "projects/policy_diff.html", {"project": project, "comparison": comparison})


@login_required
@require_http_methods(["GET", "POST"])
def releases(request: HttpRequest, slug: str) -> HttpResponse:
    """The versions a project shipped, and which release lines its policy supports."""
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_CASE_COORDINATE)
    problem = ""
    if request.method == "POST":
        try:
            release = do_record_release(
                project,
                package=request.POST.get("package", ""),
                version=request.POST.get("version", ""),
                branch=request.POST.get("branch", ""),
                commit=request.POST.get("commit", ""),
                released_on=_date_or_none(request.POST.get("released_on", "")),
                acting_user=user,
            )
        except PackageError as exc:
            problem = str(exc)
        else:
            messages.success(request, f"Release {release.version} recorded.")
            return redirect("project-releases", slug=project.slug)
    context = {
        "project": project,
        "releases": project.releases.all(),
        "versions": version_table(project),
        "problem": problem,
        "form": request.POST if problem else {},
    }
    return render(request, "projects/releases.html", context, status=400 if problem else 200)


def _date_or_none(text: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PackageError(f"{text!r} is not a date (YYYY-MM-DD)") from None
