"""Downloading a report's attachments: the team's, the reporter's and (in distributors/) a member's.

An attachment is whatever a reporter sent, often a proof of concept: it is opened from its seal only
for the response, always as a download of opaque bytes (``application/octet-stream``,
``Content-Disposition: attachment``, ``nosniff``), so no browser renders it inside vulndesk's origin,
and never cached. Each download is an audit event naming the attachment by its id only: its name
is the reporter's words and stays out of the log.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.models import User
from vulndesk.audit.actions import record_event
from vulndesk.intake.access import access_attachment_by_tracking_token, access_attachment_for_team
from vulndesk.intake.models import ReportAttachment

MAX_ASCII_NAME = 100
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_filename(name: str) -> str:
    """A file name any browser and file system takes as is: letters, digits, ``.``, ``_``, ``-``.

    Accents are dropped rather than the letters (``résumé.txt`` becomes ``resume.txt``); quotes,
    slashes, semicolons and control characters, which could break out of the header or out of
    the download folder, never survive.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE_IN_NAME.sub("_", folded).strip("._-")[:MAX_ASCII_NAME].strip("._-")
    return cleaned or "attachment"


def content_disposition(name: str) -> str:
    """``attachment`` with the ASCII name, and the original one as RFC 6266 / RFC 8187 ``filename*``."""
    fallback = ascii_filename(name)
    disposition = f'attachment; filename="{fallback}"'
    if name != fallback:
        # Percent-encoding leaves only unreserved ASCII in the header, whatever the name holds.
        disposition += f"; filename*=UTF-8''{quote(name, safe='')}"
    return disposition


def attachment_download(attachment: ReportAttachment) -> HttpResponse:
    """The attachment's bytes as a download that no browser renders, sniffs or keeps."""
    response = HttpResponse(attachment.content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition(attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def record_download(
    attachment: ReportAttachment, *, acting_user: User | None, action: str, **details: str
) -> None:
    """Every download is an audit event; its details name the attachment by id, never by name."""
    with transaction.atomic():
        record_event(
            action,
            acting_user=acting_user,
            project=attachment.report.project,
            target=attachment.report,
            details={"attachment": str(attachment.uid), **details},
        )


@login_required
@require_GET
def team_download(request: HttpRequest, slug: str, number: int, attachment: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    found = access_attachment_for_team(slug, number, attachment, user)
    record_download(found, acting_user=user, action="attachment.downloaded", by="team")
    return attachment_download(found)


@require_GET
def reporter_download(_request: HttpRequest, token: str, attachment: uuid.UUID) -> HttpResponse:
    found = access_attachment_by_tracking_token(token, attachment)
    record_download(found, acting_user=None, action="attachment.downloaded", by="reporter")
    response = attachment_download(found)
    # The link is the reporter's key (see cases.tracking.tracking_page).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
