"""Mail about advisories: one named function per email, returning what the outbox renders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from vulndesk.advisories.announce_tokens import unsubscribe_token
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.cases.emails import to_reporter
from vulndesk.notify.actions import Email

if TYPE_CHECKING:
    from vulndesk.advisories.models import Advisory, AdvisoryRevision, Subscription
    from vulndesk.intake.models import Report
    from vulndesk.projects.models import Project


def _absolute(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def advisory_url(advisory: Advisory) -> str:
    return _absolute(reverse("advisory-page", args=[advisory.project.slug, advisory.identifier]))


def confirm_subscription(subscription: Subscription, token: str) -> Email:
    project = subscription.project
    return Email(
        kind="announce-confirm",
        to=[subscription.address],
        context={
            "project_name": project.name,
            "confirm_url": _absolute(reverse("announce-confirm", args=[project.slug, token])),
        },
    )


def list_id(project: Project) -> str:
    """RFC 2919: the project's announcements as one list, so clients can file and filter them."""
    # The description is a phrase: no quote or angle bracket from the name may end it early.
    name = "".join(c for c in project.name if c not in '<>"\\')
    return f"{name} security announcements <{project.slug}.announce.{settings.MAIL_DOMAIN}>"


def _to_subscriber(subscription: Subscription, kind: str, **context: object) -> Email:
    unsubscribe = _absolute(
        reverse("announce-unsubscribe", args=[subscription.project.slug, unsubscribe_token(subscription)])
    )
    return Email(
        kind=kind,
        to=[subscription.address],
        context={"project_name": subscription.project.name, "unsubscribe_url": unsubscribe, **context},
        # RFC 8058: a mail client can unsubscribe with one POST, no page to visit.
        headers={
            "List-Id": list_id(subscription.project),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def announcement(
    subscription: Subscription, advisory: Advisory, revision: AdvisoryRevision, *, first: bool
) -> Email:
    content = AdvisoryContent.from_json(revision.content)
    return _to_subscriber(
        subscription,
        "advisory-announcement",
        identifier=advisory.public_id,
        title=content.title,
        summary=content.summary,
        mitigations=content.mitigations,
        affected=content.affected,
        revision=revision.number,
        first=first,
        url=advisory_url(advisory),
    )


def withdrawal(subscription: Subscription, advisory: Advisory) -> Email:
    return _to_subscriber(
        subscription,
        "advisory-withdrawn",
        identifier=advisory.public_id,
        title=advisory.public_title,
        reason=advisory.withdrawn_reason,
        url=advisory_url(advisory),
    )


def draft_shared(report: Report, advisory: Advisory) -> Email:
    return to_reporter(report, "advisory-draft-shared", identifier=advisory.identifier)


def published_to_reporter(report: Report, advisory: Advisory) -> Email:
    return to_reporter(
        report, "advisory-published", identifier=advisory.public_id, url=advisory_url(advisory)
    )
