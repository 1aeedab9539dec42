"""Per-report reply addresses: ``reply+<report uid>.<mac>@<intake domain>``.

The MAC makes the address unguessable from the report's uid, so nobody can post into a report's
conversation without having received our mail; it needs no storage and survives restarts.
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
    domain = report.project.policy.contacts.intake_addresses[0].rpartition("@")[2]
    uid = report.uid.hex
    return f"reply+{uid}.{_mac(uid)}@{domain}"


def report_for_reply_address(address: str) -> Report | None:
    """The report a reply address belongs to, or None for anything forged or unknown."""
    match = _ADDRESS.match(address.strip().lower())
    if match is None or not hmac.compare_digest(match["mac"], _mac(match["uid"])):
        return None
    report = Report.objects.select_related("project").filter(uid=uuid.UUID(match["uid"])).first()
    if report is None or report.tracking_revoked_at is not None:
        return None
    return report
