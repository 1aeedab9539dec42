"""The team's pages for a project's saved replies: list and create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.access import access_saved_reply
from vulndesk.cases.actions.saved_replies import (
    do_create_saved_reply,
    do_delete_saved_reply,
    do_edit_saved_reply,
)
from vulndesk.cases.saved_replies import PLACEHOLDERS, SavedReplyError, render_saved_reply, saved_replies_of
from vulndesk.intake.models import Report
from vulndesk.projects.access import access_project


def saved_reply_prefill(request: HttpRequest, report: Report) -> dict[str, str]:
    """The text of the saved reply picked under a reply box ("Insert"), filled for this report.

    The picker is a plain GET form, so it works without JavaScript; only the reply's id travels in
    the address, never the text.
    """
    chosen = request.GET.get("saved_reply", "")
    if not chosen:
        return {}
    reply = saved_replies_of(report.project).filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if reply is None:
        messages.error(request, "That saved reply does not exist in this project.")
        return {}
    try:
        return {"prefill": render_saved_reply(reply, report), "prefill_reply": str(reply.pk)}
    except SavedReplyError as exc:
        messages.error(request, f"The saved reply {reply.name!r} cannot be used: {exc}.")
        return {}


def _placeholders() -> list[tuple[str, str]]:
    return [("{" + name + "}", words) for name, (words, _) in PLACEHOLDERS.items()]


@login_required
@never_cache
def saved_replies(request: HttpRequest, slug: str) -> HttpResponse:
    """The list, and the form for a new one; a refused form comes back with what was typed."""
    user = signed_in_user(request)
    project = access_project(slug, user, Permission.PROJECT_REPORT_TRIAGE)
    typed = {"name": "", "body": ""}
    status = 200
    if request.method == "POST":
        typed = {key: request.POST.get(key, "") for key in typed}
        try:
            reply = do_create_saved_reply(project, name=typed["name"], body=typed["body"], acting_user=user)
        except SavedReplyError as exc:
            messages.error(request, f"Not saved: {exc}.")
            status = 400
        else:
            messages.success(request, f"Saved reply {reply.name!r} created.")
            return redirect("saved-replies", slug=slug)
    context = {
        "project": project,
        "replies": saved_replies_of(project),
        "typed": typed,
        "placeholders": _placeholders(),
    }
    return render(request, "cases/saved_replies.html", context, status=status)


@login_required
@never_cache
def edit_saved_reply(request: HttpRequest, slug: str, reply_id: int) -> HttpResponse:
    user = signed_in_user(request)
    reply = access_saved_reply(slug, reply_id, user)
    typed = {"name": reply.name, "body": reply.body}
    status = 200
    if request.method == "POST":
        typed = {key: request.POST.get(key, "") for key in typed}
        try:
            do_edit_saved_reply(reply, name=typed["name"], body=typed["body"], acting_user=user)
        except SavedReplyError as exc:
            messages.error(request, f"Not saved: {exc}.")
            status = 400
        else:
            messages.success(request, f"Saved reply {reply.name!r} saved.")
            return redirect("saved-replies", slug=slug)
    context = {"project": reply.project, "reply": reply, "typed": typed, "placeholders": _placeholders()}
    return render(request, "cases/saved_reply_edit.html", context, status=status)


@login_required
@require_POST
def delete_saved_reply(request: HttpRequest, slug: str, reply_id: int) -> HttpResponse:
    user = signed_in_user(request)
    reply = access_saved_reply(slug, reply_id, user)
    name = reply.name
    do_delete_saved_reply(reply, acting_user=user)
    messages.success(request, f"Saved reply {name!r} deleted.")
    return redirect("saved-replies", slug=slug)
