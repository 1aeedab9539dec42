"""Publishing an advisory over the API, under the same embargo rule as the desk."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from vulndesk.accounts.models import User
from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.token_auth import TokenAuth, token_caller
from vulndesk.advisories.access import access_advisory_for_team
from vulndesk.advisories.actions import do_publish_advisory
from vulndesk.advisories.content import AdvisoryError
from vulndesk.embargo.models import MAX_EXIT_NOTE, EarlyDisclosure, ExitReason
from vulndesk.web.problems import Problems

router = Router(tags=["advisories"], auth=TokenAuth())

# The values of EARLY_DISCLOSURE_REASONS, spelled out so the OpenAPI document lists them (a test
# holds the two equal).
EarlyReason = Literal["public", "exploit_published", "attacks_observed", "reporter_agreed", "early_other"]


class EarlyDisclosureIn(Schema):
    """Why the advisory goes out before the agreed embargo end."""

    reason: EarlyReason
    note: str = Field("", max_length=MAX_EXIT_NOTE, description="Read by the reporter and distributors.")


class PublishIn(Schema):
    early_disclosure: EarlyDisclosureIn | None = None


# The body is optional (no body: no early disclosure), but when sent it is an object, never null.
NO_EARLY_DISCLOSURE = PublishIn()


class PublishedOut(Schema):
    identifier: str
    state: str
    published_at: dt.datetime | None
    early_disclosure: str = Field(description="The early-disclosure reason recorded, or empty.")


def _caller(request: HttpRequest) -> User:
    return token_caller(request, Permission.PROJECT_ADVISORY_PUBLISH)


def _problems(exc: AdvisoryError) -> dict[str, str]:
    """``field: message`` strings keyed by their field, as every refusal answers."""
    problems: dict[str, str] = {}
    for problem in exc.problems:
        field, _, message = problem.partition(": ")
        problems[field] = message
    return problems


@router.post(
    "/{slug}/advisories/{identifier}/publish",
    response={200: PublishedOut, 409: Problems},
    summary="Publish an approved advisory",
    description=(
        "Before the case's agreed embargo end, `early_disclosure` is required: the embargo ends at once "
        "with that reason, and the reporter and the distributors with access are told. Publishing what "
        "is already published answers the same advisory again."
    ),
)
def publish_advisory(
    request: HttpRequest, slug: str, identifier: str, payload: PublishIn = NO_EARLY_DISCLOSURE
) -> Status[object]:
    user = _caller(request)
    advisory = access_advisory_for_team(user, slug, identifier, Permission.PROJECT_ADVISORY_PUBLISH)
    early = payload.early_disclosure
    decision = EarlyDisclosure(reason=ExitReason(early.reason), note=early.note) if early else None
    try:
        published = do_publish_advisory(advisory, acting_user=user, early_disclosure=decision)
    except AdvisoryError as exc:
        return Status(409, Problems(detail="the advisory was not published", problems=_problems(exc)))
    embargo = getattr(published.report, "embargo", None) if published.report else None
    early_reason = embargo.exit_reason if embargo is not None and decision is not None else ""
    return Status(
        200,
        PublishedOut(
            identifier=published.identifier,
            state=published.state,
            published_at=published.published_at,
            early_disclosure=early_reason,
        ),
    )
