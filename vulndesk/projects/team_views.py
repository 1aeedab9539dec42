"""Who is on which project's team, and managing a team: invite, change a role, remove.

An administrator manages every team; a project's team lead manages that project's. Every change
is a sensitive action: it needs a recent sign-in with the second factor.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.actions import (
    TEAM_ROLES,
    AccountError,
    do_change_team_role,
    do_remove_team_member,
)
from vulndesk.accounts.actions.invitations import ROLE_WORDS, do_invite_team_member, pending_invitations
from vulndesk.accounts.models import Membership, User
from vulndesk.accounts.permissions import Permission, Role
from vulndesk.accounts.views import reauthentication_needed
from vulndesk.projects.access import access_project
from vulndesk.projects.models import Project


@login_required
@require_GET
def teams(request: HttpRequest) -> HttpResponse:
    """Every team the person may read, with its members (an administrator reads them all)."""
    user = signed_in_user(request)
    projects = Project.objects.all() if user.is_admin else Project.objects.filter(memberships__user=user)
    rows = [
        {
            "project": project,
            "members": _members(project),
            "manages": user.has_project_permission(project, Permission.PROJECT_TEAM_MANAGE),
        }
        for project in projects.distinct().order_by("name")
    ]
    return render(request, "projects/teams.html", {"rows": rows})


def _members(project: Project) -> list[Membership]:
    return list(
        project.memberships.select_related("user").filter(user__is_active=True).order_by("user__email")
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_team(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_REPORT_READ)
    manages = user.has_project_permission(project, Permission.PROJECT_TEAM_MANAGE)
    error = ""
    if request.method == "POST":
        if not manages:
            raise Http404
        confirm = reauthentication_needed(request, reverse("project-team", args=[slug]))
        if confirm is not None:
            return confirm
        try:
            messages.success(request, _act(request, project, user))
            return redirect("project-team", slug=slug)
        except AccountError as exc:
            error = str(exc)
    context = {
        "project": project,
        "members": _members(project),
        "invitations": pending_invitations(project) if manages else [],
        "manages": manages,
        "roles": [(str(role), ROLE_WORDS[role].removeprefix("a ").capitalize()) for role in TEAM_ROLES],
        "error": error,
        "form": request.POST if error else {},
        "nobody": not _members(project),
    }
    return render(request, "projects/project_team.html", context, status=400 if error else 200)


def _role(value: str) -> Role:
    if value not in {str(r) for r in TEAM_ROLES}:
        raise AccountError("choose the role: team member or team lead")
    return Role(value)


def _member(project: Project, value: str) -> Membership:
    membership = project.memberships.select_related("user").filter(user_id=value if value.isdigit() else 0)
    found = membership.first()
    if found is None:
        raise AccountError("that person is not on the team")
    return found


def _act(request: HttpRequest, project: Project, user: User) -> str:
    action = request.POST.get("action", "")
    if action == "invite":
        email = request.POST.get("email", "")
        done = do_invite_team_member(project, email, _role(request.POST.get("role", "")), acting_user=user)
        return f"{email.strip()} was {'sent an invitation' if done == 'invited' else 'added to the team'}."
    membership = _member(project, request.POST.get("member", ""))
    if action == "role":
        do_change_team_role(membership, _role(request.POST.get("role", "")), acting_user=user)
        return f"{membership.user.email} is now {ROLE_WORDS[Role(request.POST['role'])]}."
    if action == "remove":
        do_remove_team_member(membership.user, project, acting_user=user)
        return f"{membership.user.email} is off the team; their open cases went back to the team."
    raise AccountError("unknown action")
