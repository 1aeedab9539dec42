"""Reports through the API: the same checks and action as the web form, open to anonymous callers."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.params.functions import Header

from vulndesk.intake.actions import Provenance, do_receive_report
from vulndesk.intake.emails import acknowledgement_due, tracking_url
from vulndesk.intake.filenames import safe_filename
from vulndesk.intake.models import Channel, CreditPreference
from vulndesk.intake.submission import Attachment, Submission, SubmissionError
from vulndesk.intake.throttle import Throttled
from vulndesk.projects.access import access_public_project
from vulndesk.web.client import client_address
from vulndesk.web.problems import Problems

router = Router(tags=["intake"])


class AttachmentIn(Schema):
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    # The request size limit bounds this; each file's own limit is checked once decoded.
    content_base64: str


class ReportIn(Schema):
    title: str = Field(description="A descriptive subject line.")
    description: str
    fields: dict[str, str] = Field(
        default_factory=dict, description="Answers keyed by the policy's field names."
    )
    reporter_name: str = ""
    reporter_affiliation: str = ""
    reporter_email: str = ""
    anonymous: bool = False
    credit: CreditPreference = CreditPreference.ANONYMOUS
    credit_handle: str = ""
    attachments: list[AttachmentIn] = Field(default_factory=list)


class ReportReceipt(Schema):
    number: int
    status: str
    created: bool = Field(description="False when this answers a retry of an earlier request.")
    tracking_url: str | None = Field(description="The reporter's private link; only in the first answer.")
    acknowledge_by: str


def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    """429 with when to try again (RFC 9110 §10.2.3), as the web form answers."""
    answer = Problems(detail=str(exc))
    # Rendered as ninja renders every answer, without reaching for the API object that registers this router.
    response = HttpResponse(
        json.dumps(answer.dict()), status=429, content_type="application/json; charset=utf-8"
    )
    response["Retry-After"] = str(exc.retry_after_seconds)
    return response


def _attachments(items: list[AttachmentIn]) -> list[Attachment]:
    decoded = []
    for item in items:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            name = safe_filename(item.filename)
            raise SubmissionError({"attachments": f"{name!r} is not valid base64"}) from None
        decoded.append(Attachment(filename=item.filename, content_type=item.content_type, content=content))
    return decoded


@router.post(
    "/{slug}/reports",
    # 429: the hourly limits per network address and per sender (intake/throttle.py).
    response={201: ReportReceipt, 200: ReportReceipt, 422: Problems, 429: Problems},
    auth=None,
    summary="Send a vulnerability report privately",
)
def submit_report(
    request: HttpRequest,
    slug: str,
    payload: ReportIn,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", max_length=200)] = "",
) -> Status[ReportReceipt | Problems] | HttpResponse:
    project = access_public_project(slug)
    try:
        submission = Submission(
            title=payload.title,
            description=payload.description,
            fields=payload.fields,
            reporter_name=payload.reporter_name,
            reporter_affiliation=payload.reporter_affiliation,
            reporter_email=payload.reporter_email,
            anonymous=payload.anonymous,
            credit=payload.credit,
            credit_handle=payload.credit_handle,
            attachments=_attachments(payload.attachments),
        )
        received = do_receive_report(
            project,
            submission,
            channel=Channel.API,
            acting_user=None,
            provenance=Provenance(
                idempotency_key=f"api:{idempotency_key}" if idempotency_key else "",
                client_address=client_address(request),
            ),
        )
    except Throttled as exc:
        return _throttled(request, exc)
    except SubmissionError as exc:
        return Status(422, Problems(detail="the report was not accepted", problems=exc.problems))
    report = received.report
    return Status(
        (201 if received.created else 200),
        ReportReceipt(
            number=report.number,
            status=report.rm_state,
            created=received.created,
            tracking_url=tracking_url(received.tracking_token) if received.tracking_token else None,
            acknowledge_by=acknowledgement_due(report),
        ),
    )
