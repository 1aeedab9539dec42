"""The public face of advisories: lists, pages, feeds, and the security-announce list."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from vulndesk.advisories import feeds
from vulndesk.advisories.access import access_published_advisory, public_advisories
from vulndesk.advisories.actions.subscriptions import (
    SubscriptionError,
    do_confirm_subscription,
    do_subscribe,
    do_unsubscribe,
    subscription_for,
)
from vulndesk.advisories.documents import document, published_revision
from vulndesk.advisories.models import Advisory, AdvisoryState
from vulndesk.cases.severity import cwe_name
from vulndesk.projects.access import access_public_project
from vulndesk.projects.models import Project

PAGE_SIZE = 50


def _search(advisories: QuerySet[Advisory], query: str) -> QuerySet[Advisory]:
    """Published text is public, so the list searches it in clear (drafts never reach this query)."""
    for word in query.split()[:8]:
        advisories = advisories.filter(
            Q(identifier__icontains=word)
            | Q(cve_id__icontains=word)
            | Q(public_title__icontains=word)
            | Q(public_summary__icontains=word)
        )
    return advisories


def advisory_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_public_project(slug)
    query = request.GET.get("q", "").strip()[:200]
    advisories = _search(public_advisories().filter(project=project), query).order_by("-published_at", "-pk")
    page = Paginator(advisories, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "advisories/list.html", {"project": project, "page": page, "query": query})


def all_advisories(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    advisories = _search(public_advisories(), query).order_by("-published_at", "-pk")
    page = Paginator(advisories, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "advisories/list.html", {"project": None, "page": page, "query": query})


def advisory_page(request: HttpRequest, slug: str, identifier: str) -> HttpResponse:
    advisory = access_published_advisory(slug, identifier)
    revision = published_revision(advisory)
    doc = document(revision)  # type: ignore[arg-type]  # a public advisory has a published revision
    context = {
        "project": advisory.project,
        "advisory": advisory,
        "doc": doc,
        "withdrawn": advisory.state == AdvisoryState.WITHDRAWN,
        "cwe_names": {cwe: cwe_name(cwe) for cwe in doc.cwes},
    }
    return render(request, "advisories/page.html", context)


def atom_feed(request: HttpRequest, slug: str) -> HttpResponse:
    body = feeds.atom(request, access_public_project(slug))
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


def json_feed(request: HttpRequest, slug: str) -> HttpResponse:
    body = feeds.json_feed(request, access_public_project(slug))
    return HttpResponse(body, content_type="application/feed+json")


def json_index(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(
        feeds.json_index(request, access_public_project(slug)), content_type="application/json"
    )


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_public_project(slug)
    context: dict[str, object] = {"project": project, "sent": False, "problem": ""}
    if request.method == "POST":
        try:
            do_subscribe(project, request.POST.get("email", "")[:254], acting_user=None)
        except SubscriptionError as exc:
            context["problem"] = str(exc)
        else:
            context["sent"] = True
    return render(request, "advisories/subscribe.html", context, status=400 if context["problem"] else 200)


def _subscription_of(project: Project, token: str, *, unsubscribe: bool) -> None:
    """A token of another project's list is as invalid as a forged one."""
    if subscription_for(token, unsubscribe=unsubscribe).project_id != project.pk:
        raise SubscriptionError("this link is not valid or has expired")


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """A GET shows a button: link scanners that fetch every URL in a mail must not subscribe anyone."""
    project = access_public_project(slug)
    try:
        _subscription_of(project, token, unsubscribe=False)
        if request.method == "POST":
            do_confirm_subscription(token, acting_user=None)
            return render(
                request, "advisories/subscription_done.html", {"project": project, "confirmed": True}
            )
    except SubscriptionError as exc:
        return render(
            request,
            "advisories/subscription_done.html",
            {"project": project, "problem": str(exc)},
            status=404,
        )
    return render(request, "advisories/subscription_confirm.html", {"project": project, "action": "confirm"})


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session; the signed token authorizes it
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    project = access_public_project(slug)
    try:
        _subscription_of(project, token, unsubscribe=True)
        if request.method == "POST":
            do_unsubscribe(token, acting_user=None)
            return render(
                request, "advisories/subscription_done.html", {"project": project, "unsubscribed": True}
            )
    except SubscriptionError as exc:
        return render(
            request,
            "advisories/subscription_done.html",
            {"project": project, "problem": str(exc)},
            status=404,
        )
    return render(
        request, "advisories/subscription_confirm.html", {"project": project, "action": "unsubscribe"}
    )
