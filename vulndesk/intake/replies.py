"""Per-report reply addresses: ``reply+<report uid>.<mac>@<reply domain>``.

The MAC makes the address unguessable from the report's uid, so nobody can post into a report's
conversation without having received our mail; it needs no storage and survives restarts.

The domain is the operator's ``REPLY_DOMAIN``, whose MX (or forwarding) reaches the SMTP intake;
never an intake address's domain, which is often a third party's (a mailing list, a ticket desk)
that would receive the reporter's answer instead of us. Addresses handed out before on a project's
intake domain keep working, since mail already sent names them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from django.conf import settings

from vulndesk.intake.models import Report

_ADDRESS = re.compile(r"^reply\+(?P<uid>[0-9a-f]{32})\.(?P<mac>[0-9a-f]{32})@(?P<domain>[^@\s]+)$")


def _mac(uid: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"reply:{uid}".encode(), hashlib.sha256).hexdigest()[:32]


def reply_address(report: Report) -> str:
    uid = report.uid.hex
    return f"reply+{uid}.{_mac(uid)}@{settings.REPLY_DOMAIN}"


def report_for_reply_address(address: str) -> Report | None:
    """The report a reply address belongs to, or None for anything forged or unknown."""
    match = _ADDRESS.match(address.strip().lower())
    if match is None or not hmac.compare_digest(match["mac"], _mac(match["uid"])):
        return None
    report = Report.objects.select_related("project").filter(uid=uuid.UUID(match["uid"])).first()
    if report is None or report.tracking_revoked_at is not None:
        return None
    if match["domain"] not in _reply_domains(report):
        return None
    return report


def _reply_domains(report: Report) -> set[str]:
    intake = report.project.policy.contacts.intake_addresses
    return {settings.REPLY_DOMAIN, *(address.rpartition("@")[2].lower() for address in intake)}
