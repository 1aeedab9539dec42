"""Mail of the distributors list. Mail to a member is encrypted to their key, whatever it says."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from vulndesk.cases.emails import to_reporter
from vulndesk.notify.actions import Email
from vulndesk.notify.threads import keyed_message_id

if TYPE_CHECKING:
    from vulndesk.distributors.briefing import Briefing
    from vulndesk.distributors.models import CaseShare, DistributorMember, Leak, Organisation, Vouch
    from vulndesk.intake.models import Report
    from vulndesk.projects.models import Project

__all__ = ["Email"]


def _team(project: Project) -> list[str]:
    return project.team_recipients()


def _desk_url(project: Project) -> str:
    return settings.BASE_URL + reverse("project-distributors", args=[project.slug])


def _to_member(member: DistributorMember, kind: str, **context: object) -> Email:
    project = member.organisation.project
    return Email(
        kind=kind,
        to=[member.user.email],
        encrypt_to=member.public_key,
        context={
            "project_name": project.name,
            "organisation": member.organisation.name,
            "portal_url": settings.BASE_URL + reverse("distributor-portal"),
            **context,
        },
    )


def application_received(organisation: Organisation) -> Email:
    project = organisation.project
    return Email(
        kind="distributor-application",
        to=_team(project),
        context={
            "project_name": project.name,
            "organisation": organisation.name,
            "desk_url": _desk_url(project),
        },
    )


def vouch_received(vouch: Vouch) -> Email:
    project = vouch.organisation.project
    return Email(
        kind="distributor-vouch",
        to=_team(project),
        context={
            "project_name": project.name,
            "organisation": vouch.organisation.name,
            "by": vouch.member.organisation.name,
            "desk_url": _desk_url(project),
        },
    )


def invitation(member: DistributorMember, url: str) -> Email:
    return _to_member(member, "distributor-invitation", invitation_url=url)


def application_declined(member: DistributorMember, reason: str) -> Email:
    return _to_member(member, "distributor-declined", reason=reason)


def removed_from_list(member: DistributorMember, reason: str) -> Email:
    return _to_member(member, "distributor-removed", reason=reason)


def notice(
    share: CaseShare, member: DistributorMember, stage: str, content: Briefing | None, **extra: str
) -> Email:
    """The briefing, or (``content`` None) only the case number and a request to accept the policy."""
    project = share.report.project
    email = _to_member(
        member,
        "distributor-notice",
        stage=stage,
        b=content,
        number=share.report.number,
        case_url=settings.BASE_URL + reverse("distributor-case", args=[project.slug, share.report.number]),
        final_hours=project.policy.disclosure.distributor_final_notice_hours,
        **extra,
    )
    # One thread per case and organisation: the first notice, the final one, changes and the end.
    root = keyed_message_id(f"distributors:{share.report.uid}:{share.organisation_id}")
    return dataclasses.replace(email, thread_root=root)


def leak_alert(leak: Leak) -> Email:
    project = leak.report.project
    return Email(
        kind="distributor-leak",
        to=_team(project),
        context={
            "project_name": project.name,
            "number": leak.report.number,
            "by": leak.get_reported_by_kind_display(),
            "desk_url": settings.BASE_URL + reverse("report-page", args=[project.slug, leak.report.number]),
        },
    )


def told_reporter(report: Report, count: int, ends: str) -> Email:
    """The reporter hears that distributors were told (how many, not who), under the same embargo."""
    return to_reporter(report, "distributors-told-reporter", count=count, ends=ends)
