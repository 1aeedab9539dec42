"""Leaks: embargoed information reached someone it should not have.

Anyone on a case can report one (the team, a distributor member, the reporter). The team is alerted
at once; a leak the team attributes to an organisation counts toward the policy's
``leaks_before_removal``, and reaching it removes the organisation from the list, as the seed's
embargo policy says. Only the team attributes: nobody else can count a leak against anyone.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction

from vulndesk.audit.actions import record_event
from vulndesk.distributors import emails
from vulndesk.distributors.actions import DistributorError
from vulndesk.distributors.actions.membership import do_remove_organisation
from vulndesk.distributors.actions.sharing import check_acting_for, check_member_may_act
from vulndesk.distributors.models import (
    CaseShare,
    DistributorMember,
    Leak,
    Organisation,
    OrganisationState,
    ReportedBy,
)
from vulndesk.notify.actions import queue_email

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report

MAX_LEAK_TEXT = 2000


def do_report_leak(
    report: Report,
    *,
    what: str,
    to_whom: str,
    happened_at: dt.datetime | None,
    reported_by_kind: ReportedBy,
    organisation: Organisation | None = None,
    acting_user: User | None,
) -> Leak:
    """Someone on the case (``acting_user``; none for the reporter's tracking page) tells of a leak."""
    for label, text in (("what leaked", what), ("to whom", to_whom)):
        if not text.strip() or len(text) > MAX_LEAK_TEXT:
            raise DistributorError(f"say {label} (1 to {MAX_LEAK_TEXT} characters)")
    if happened_at is not None and happened_at.utcoffset() is None:
        raise DistributorError("the time of the leak needs a timezone")
    if organisation is not None and organisation.project_id != report.project_id:
        raise DistributorError("that organisation is not on this project's list")
    with transaction.atomic():
        leak = Leak(
            report=report,
            organisation=organisation,
            reported_by_kind=reported_by_kind,
            reported_by=acting_user,
            happened_at=happened_at,
        )
        leak.what, leak.to_whom = what.strip(), to_whom.strip()
        leak.save()
        record_event(
            "distributors.leak_reported",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"by": str(reported_by_kind), "organisation": organisation.name if organisation else ""},
        )
        alert = emails.leak_alert(leak)
        if alert.to:
            queue_email(alert, project=report.project, about=report)
        if organisation is not None:
            _consequences(organisation)
    return leak


def do_report_member_leak(
    share: CaseShare,
    member: DistributorMember,
    *,
    what: str,
    to_whom: str,
    happened_at: dt.datetime | None,
    acting_user: User,
) -> Leak:
    """A member of an organisation told of the case reports a leak from the portal."""
    check_acting_for(member, acting_user)
    check_member_may_act(share, member)
    return do_report_leak(
        share.report,
        what=what,
        to_whom=to_whom,
        happened_at=happened_at,
        reported_by_kind=ReportedBy.DISTRIBUTOR,
        # Not counted against anyone yet: the team attributes it once it knows where it came
        # from, so one member cannot get an organisation removed by reporting leaks.
        organisation=None,
        acting_user=acting_user,
    )


def do_attribute_leak(leak: Leak, organisation: Organisation, *, acting_user: User) -> Leak:
    """The team found where a leak came from: it counts against that organisation."""
    if organisation.project_id != leak.report.project_id:
        raise DistributorError("that organisation is not on this project's list")
    with transaction.atomic():
        leak.organisation = organisation
        leak.save(update_fields=["organisation"])
        record_event(
            "distributors.leak_attributed",
            acting_user=acting_user,
            project=leak.report.project,
            target=leak.report,
            details={"organisation": organisation.name},
        )
        _consequences(organisation)
    return leak


def _consequences(organisation: Organisation) -> None:
    limit = organisation.project.policy.distributors.leaks_before_removal
    count = organisation.leaks.count()
    if count >= limit and organisation.state == OrganisationState.APPROVED:
        do_remove_organisation(
            organisation,
            f"{count} leaks of embargoed information; the embargo policy removes an organisation "
            f"from the list after {limit}.",
            acting_user=None,
        )
