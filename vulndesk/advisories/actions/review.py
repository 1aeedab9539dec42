"""Asking a named team member to review an advisory draft: they may approve it, the author may
not (``do_approve_draft``), so the request goes to someone else and tells them by mail."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import draft_revision
from vulndesk.advisories.content import AdvisoryError
from vulndesk.advisories.models import Advisory
from vulndesk.audit.actions import record_event
from vulndesk.notify.actions import Email
from vulndesk.notify.models import NoticeKind
from vulndesk.notify.preferences import queue_team_notice


def possible_reviewers(advisory: Advisory) -> list[User]:
    """The project's active team members other than whoever last edited the draft."""
    draft = draft_revision(advisory)
    team = User.objects.filter(memberships__project=advisory.project, is_active=True)
    if draft is not None and draft.edited_by_id is not None:
        team = team.exclude(pk=draft.edited_by_id)
    return list(team.order_by("email"))


def do_request_review(advisory: Advisory, reviewer: User, *, acting_user: User) -> None:
    if reviewer == acting_user:
        raise AdvisoryError(["reviewer: ask another member of the team"])
    if reviewer not in possible_reviewers(advisory):
        raise AdvisoryError(["reviewer: choose a member of the team who did not write the draft"])
    with transaction.atomic():
        locked = Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk)
        draft = draft_revision(locked)
        if draft is None or draft.approved_at is not None:
            raise AdvisoryError(["state: there is no draft waiting for approval"])
        draft.review_requested_from, draft.review_requested_at = reviewer, timezone.now()
        draft.save(update_fields=["review_requested_from", "review_requested_at"])
        record_event(
            "advisory.review_requested",
            acting_user=acting_user,
            project=locked.project,
            target=locked,
            details={"revision": draft.number, "reviewer": reviewer.email},
        )
        mail = review_requested(locked, reviewer, by=acting_user)
        queue_team_notice(mail, NoticeKind.REVIEW_REQUESTED, project=locked.project, about=locked.report)


def review_requested(advisory: Advisory, reviewer: User, *, by: User) -> Email:
    path = reverse("advisory-edit", args=[advisory.project.slug, advisory.identifier])
    return Email(
        kind="review-requested",
        to=[reviewer.email],
        context={
            "project_name": advisory.project.name,
            "identifier": advisory.identifier,
            "by": str(by),
            "report_url": settings.BASE_URL + path,
        },
    )
