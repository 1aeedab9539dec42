"""The outbox as administrators read it: every mail and webhook delivery, filtered and paged.

A row says what kind of mail it is, whom it was for as a role (reporter, team, distributor,
administrator, subscriber), when, how many attempts and how it ended, never an address or a word
of its contents: the role comes from the mail's kind, not from its sealed recipients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import QueryDict

from vulndesk.notify.models import OutboundEmail, OutboundStatus, OutboundWebhook

if TYPE_CHECKING:
    from vulndesk.projects.models import Project

PAGE_SIZE = 50

# Kinds whose recipient is not the reporter of the row's report. Mail to a reporter carries its
# report (notify/actions.py queue_email), so that alone marks it.
_ROLE_BY_KIND = {
    "audit-checkpoint": "administrator",
    "distributor-application": "team",
    "distributor-vouch": "team",
    "distributor-leak": "team",
    "distributor-notice": "distributor",
    "distributor-invitation": "distributor",
    "distributor-declined": "distributor",
    "distributor-removed": "distributor",
    "advisory-announcement": "subscriber",
    "advisory-published": "subscriber",
    "advisory-withdrawn": "subscriber",
    "announce-confirm": "subscriber",
}


def recipient_role(kind: str, *, to_reporter: bool) -> str:
    if to_reporter:
        return "reporter"
    if kind in _ROLE_BY_KIND:
        return _ROLE_BY_KIND[kind]
    if kind.startswith("distributor"):
        return "distributor"
    # Everything else the desk sends (new report, replies, SLA notices, embargo updates) is for the team.
    return "team"


def error_kind(last_error: str) -> str:
    """The exception's kind only (tasks.failure_reason writes "Kind: detail")."""
    return last_error.split(":", 1)[0] if last_error else ""


@dataclass(frozen=True)
class OutboxFilter:
    status: str = ""
    kind: str = ""
    project: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> OutboxFilter:
        status = query.get("status", "")
        return cls(
            status=status if status in OutboundStatus.values else "",
            kind=query.get("kind", "")[:60],
            project=query.get("project", "")[:50],
        )

    def as_query(self) -> str:
        pairs = {"status": self.status, "kind": self.kind, "project": self.project}
        query = QueryDict(mutable=True)
        query.update({key: value for key, value in pairs.items() if value})
        return query.urlencode()


@dataclass(frozen=True)
class MailRow:
    mail: OutboundEmail

    @property
    def role(self) -> str:
        return recipient_role(self.mail.kind, to_reporter=self.mail.report_id is not None)

    @property
    def error_kind(self) -> str:
        return error_kind(self.mail.last_error)

    @property
    def can_retry(self) -> bool:
        return self.mail.status == OutboundStatus.FAILED


def mail_page(chosen: OutboxFilter, page_number: str | None) -> tuple[Page[OutboundEmail], list[MailRow]]:
    mails = OutboundEmail.objects.select_related("project").order_by("-created_at", "-pk")
    if chosen.status:
        mails = mails.filter(status=chosen.status)
    if chosen.kind:
        mails = mails.filter(kind=chosen.kind)
    if chosen.project:
        mails = mails.filter(project__slug=chosen.project)
    # Only the columns the page shows: the sealed message stays in the database.
    page = Paginator(mails.defer("sealed_message"), PAGE_SIZE).get_page(page_number)
    return page, [MailRow(mail) for mail in page.object_list]


def webhook_rows(chosen: OutboxFilter) -> QuerySet[OutboundWebhook]:
    deliveries = OutboundWebhook.objects.select_related("webhook__project").order_by("-created_at", "-pk")
    if chosen.status:
        deliveries = deliveries.filter(status=chosen.status)
    if chosen.project:
        deliveries = deliveries.filter(webhook__project__slug=chosen.project)
    return deliveries.defer("payload")[:PAGE_SIZE]


def known_kinds() -> list[str]:
    return list(OutboundEmail.objects.order_by("kind").values_list("kind", flat=True).distinct())


def project_choices() -> QuerySet[Project]:
    """Every project, for the filter."""
    # The model through the outbox's own relation to it, not an import: projects build on notify.
    project_model = cast("type[Project]", OutboundEmail.project.field.related_model)
    return project_model.objects.order_by("name").only("slug", "name")
