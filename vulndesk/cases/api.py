"""The team's queue and cases in the API: the same data as the desk, for tokens of the team."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.params.functions import Query

from vulndesk.accounts.models import ApiToken, User
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.token_auth import TokenAuth, token_caller
from vulndesk.cases.actions import do_record_report_read
from vulndesk.cases.actions.acknowledgement import AlreadyAcknowledged, do_acknowledge_report
from vulndesk.cases.models import Message, Triage, Via
from vulndesk.cases.sla import report_clocks
from vulndesk.intake.access import access_report_for_team, reports_visible_to
from vulndesk.intake.models import Report
from vulndesk.intake.search import search
from vulndesk.intake.submission import SubmissionError
from vulndesk.web.problems import Problems

router = Router(tags=["cases"], auth=TokenAuth())
MAX_PAGE = 200


class ClockOut(Schema):
    name: str
    due: dt.datetime
    met_at: dt.datetime | None
    state: str


class ReportSummary(Schema):
    project: str
    number: int
    title: str
    state: str
    quarantined: bool
    received_at: dt.datetime
    rating: str
    clocks: list[ClockOut]


class MessageOut(Schema):
    author: str
    visibility: str
    created_at: dt.datetime
    body: str


class ReportDetail(ReportSummary):
    fields: dict[str, str]
    cvss31_vector: str
    cvss40_vector: str
    cwes: list[str]
    messages: list[MessageOut]


def _caller(request: HttpRequest) -> User:
    return token_caller(request, Permission.PROJECT_REPORT_READ)


def _summary(report: Report, triage: Triage | None) -> dict[str, object]:
    return {
        "project": report.project.slug,
        "number": report.number,
        "title": report.title,
        "state": report.rm_state,
        "quarantined": report.quarantined,
        "received_at": report.received_at,
        "rating": triage.rating if triage else "",
        "clocks": [
            ClockOut(name=c.name, due=c.due, met_at=c.met_at, state=c.state) for c in report_clocks(report)
        ],
    }


class ReportSearch(Schema):
    q: Annotated[str, Field(min_length=1, max_length=200, description="Words that must all appear")]
    project: str = ""
    state: str = ""
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50


@router.get(
    "/reports",
    # 404: a token whose scopes do not include reading reports (the same answer as elsewhere).
    response={200: list[ReportSummary], 404: Problems},
    summary="The queue: reports of the caller's projects",
)
def list_reports(
    request: HttpRequest,
    project: str = "",
    state: str = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> list[ReportSummary]:
    user = _caller(request)
    if "q" in request.GET:
        # Refused, not ignored: a script that still sends words in the URL must find out.
        raise HttpError(400, "search words go in the body of POST /api/v1/reports/search, never in a URL")
    return _queue(user, project, state, "", limit)


@router.post(
    "/reports/search",
    response={200: list[ReportSummary], 404: Problems},
    summary="Search the queue: the words go in the body, never in a URL (they are report contents)",
)
def search_reports(request: HttpRequest, body: ReportSearch) -> list[ReportSummary]:
    return _queue(_caller(request), body.project, body.state, body.q, body.limit)


def _queue(user: User, project: str, state: str, words: str, limit: int) -> list[ReportSummary]:
    reports = reports_visible_to(user)
    if project:
        reports = reports.filter(project__slug=project)
    if state:
        reports = reports.filter(rm_state=state)
    if words.strip():
        reports = search(reports, words)
    rows = list(reports.order_by("-received_at")[:limit])
    triages = {t.report_id: t for t in Triage.objects.filter(report__in=rows)}
    return [ReportSummary(**_summary(r, triages.get(r.pk))) for r in rows]  # type: ignore[arg-type]


@router.get(
    "/projects/{slug}/reports/{number}", response=ReportDetail, summary="One report, with its conversation"
)
def get_report(request: HttpRequest, slug: str, number: int) -> ReportDetail:
    user = _caller(request)
    report = access_report_for_team(slug, number, user)
    do_record_report_read(report, via=Via.API, acting_user=user)
    triage = Triage.objects.filter(report=report).first()
    messages = Message.objects.filter(report=report).select_related("author")
    return ReportDetail(
        **_summary(report, triage),  # type: ignore[arg-type]
        fields=report.fields,
        cvss31_vector=triage.cvss31_vector if triage else "",
        cvss40_vector=triage.cvss40_vector if triage else "",
        cwes=triage.cwes if triage else [],
        messages=[
            MessageOut(author=m.author_kind, visibility=m.visibility, created_at=m.created_at, body=m.body)
            for m in messages
        ],
    )


class AcknowledgementIn(Schema):
    # The length is checked after access, so a caller without access gets 404 whatever it sends.
    message: Annotated[str, Field(description="The text sent; empty sends the policy's template")] = ""


@router.post(
    "/projects/{slug}/reports/{number}/acknowledge",
    response={200: ReportSummary, 409: Problems, 422: Problems},
    summary="Acknowledge a report: the reporter is told, the acknowledgement clock stops",
)
def acknowledge_report(
    request: HttpRequest, slug: str, number: int, payload: AcknowledgementIn
) -> Status[Problems] | ReportSummary:
    user = _caller(request)
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    if not token.allows(Permission.PROJECT_REPORT_TRIAGE):
        raise HttpError(404, "Not Found")
    report = access_report_for_team(slug, number, user, Permission.PROJECT_REPORT_TRIAGE)
    try:
        triage = do_acknowledge_report(report, payload.message, acting_user=user)
    except AlreadyAcknowledged as exc:
        return Status(409, Problems(detail="not acknowledged", problems=exc.problems))
    except SubmissionError as exc:
        return Status(422, Problems(detail="not acknowledged", problems=exc.problems))
    return ReportSummary(**_summary(report, triage))  # type: ignore[arg-type]
