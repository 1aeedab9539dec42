"""A reporter's emailed answer, to the per-report reply address, joins the report's conversation.

The SMTP intake (``intake/smtpd.py``) hands on mail to a ``reply+`` address through
``intake.hooks.reply_receivers``; the message is read like a report (``intake/mail.py``, OpenPGP
included) and only its new text, without the quoted message, is posted.
"""

from __future__ import annotations

import re

from vulndesk.cases.actions import do_post_reporter_reply
from vulndesk.cases.models import Via
from vulndesk.intake.hooks import ReplyReceiver
from vulndesk.intake.mail import parse_report_email
from vulndesk.intake.replies import report_for_reply_address
from vulndesk.intake.submission import SubmissionError
from vulndesk.openpgp.inbound import intake_key

_QUOTE_HEADER = re.compile(r"^(On .{0,200} wrote:|-----Original Message-----)\s*$")


def reply_address_known(address: str) -> bool:
    return report_for_reply_address(address) is not None


def receive_reply(address: str, raw: bytes) -> int:
    """Add a reporter's emailed answer to their report's conversation; the report's number."""
    report = report_for_reply_address(address)
    if report is None:
        raise SubmissionError({"recipient": "no such reply address"})
    parsed = parse_report_email(raw, intake_key(report.project))
    text = without_quoted_text(parsed.submission.description)
    do_post_reporter_reply(report, text, via=Via.EMAIL, acting_user=None)
    return report.number


def without_quoted_text(body: str) -> str:
    """The new part of an answer: stop at the quoted message the mail client appended."""
    kept = []
    for line in body.splitlines():
        if _QUOTE_HEADER.match(line.strip()):
            break
        if not line.startswith(">"):
            kept.append(line)
    return "\n".join(kept).strip() or body.strip()


RECEIVER = ReplyReceiver(knows=reply_address_known, receive=receive_reply)
