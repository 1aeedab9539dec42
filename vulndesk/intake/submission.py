"""What a reporter sends, whatever the channel, checked before anything is stored.

The web form, the API and the SMTP intake each build a ``Submission`` and hand it to
``do_receive_report``; the limits and the policy's required fields are enforced here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email

from vulndesk.intake.archives import check_attachments
from vulndesk.intake.filenames import safe_filename
from vulndesk.intake.models import CreditPreference
from vulndesk.projects.policy import Policy, ReportField

MAX_TITLE = 200
MAX_FIELD = 100_000
MAX_DESCRIPTION = 200_000

_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
# Control characters other than tab and newlines have no place in a report's text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Submission:
    title: str
    description: str
    fields: dict[str, str] = field(default_factory=dict)
    reporter_name: str = ""
    reporter_affiliation: str = ""
    reporter_email: str = ""
    anonymous: bool = False
    credit: str = CreditPreference.ANONYMOUS
    credit_handle: str = ""
    accepted_guidelines: bool = False
    attachments: list[Attachment] = field(default_factory=list)


class SubmissionError(ValueError):
    """A refused submission; ``problems`` maps a field name to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in problems.items()))


def is_deliverable_address(address: str) -> bool:
    """A single plain address that outgoing mail will use as it is: Django's validator, then
    the same encoding the SMTP backend applies must give it back unchanged (no comments, no lists,
    no route that would deliver somewhere else)."""
    if not _EMAIL.match(address) or any(c in address for c in ",;()<>[]\\\"'"):
        return False
    try:
        validate_email(address)
        return sanitize_address(address, "utf-8") == address
    except (ValidationError, ValueError):
        return False


def clean_text(value: str) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n")).strip()


def check_submission(
    submission: Submission, policy: Policy, *, require_guidelines: bool, require_fields: bool = True
) -> None:
    """Raise ``SubmissionError`` naming every field at fault; a valid submission passes silently."""
    problems: dict[str, str] = {}
    _check_length(problems, "title", submission.title, MAX_TITLE, required=True)
    _check_length(problems, "description", submission.description, MAX_DESCRIPTION, required=True)
    asked = {f.name.value: f.required for f in policy.reporter_guidance.fields}
    for name, value in submission.fields.items():
        if name not in asked:
            problems[name] = "is not a field this project asks for"
        else:
            _check_length(problems, name, value, MAX_FIELD, required=False)
    for name, required in asked.items():
        if require_fields and required and not _given(submission, name):
            problems[name] = "is required by this project's policy"
    _check_reporter(problems, submission)
    if require_guidelines and policy.reporter_guidance.guidelines and not submission.accepted_guidelines:
        problems["accepted_guidelines"] = "please read and accept the reporter guidelines"
    _check_attachments(problems, submission.attachments)
    if problems:
        raise SubmissionError(problems)


def _given(submission: Submission, name: str) -> bool:
    if name == ReportField.IDENTITY:
        return bool(submission.reporter_name) or submission.anonymous
    if name == ReportField.AFFILIATION:
        return bool(submission.reporter_affiliation) or submission.anonymous
    return bool(submission.fields.get(name, "").strip())


def _check_length(problems: dict[str, str], name: str, value: str, limit: int, *, required: bool) -> None:
    if required and not value.strip():
        problems[name] = "is required"
    elif len(value) > limit:
        problems[name] = f"is too long ({len(value)} characters; the limit is {limit})"


def _check_reporter(problems: dict[str, str], submission: Submission) -> None:
    if submission.reporter_email and not is_deliverable_address(submission.reporter_email):
        problems["reporter_email"] = "is not an email address"
    if submission.credit not in CreditPreference.values:
        problems["credit"] = "must be one of: " + ", ".join(CreditPreference.values)
    elif submission.credit == CreditPreference.HANDLE and not submission.credit_handle.strip():
        problems["credit_handle"] = "is required to be credited by handle"
    elif submission.credit == CreditPreference.NAME and not submission.reporter_name.strip():
        problems["reporter_name"] = "is required to be credited by name"
    for name in ("reporter_name", "reporter_affiliation", "credit_handle"):
        if len(getattr(submission, name)) > MAX_TITLE:
            problems[name] = f"is too long (the limit is {MAX_TITLE} characters)"


@dataclass(frozen=True)
class AttachmentLimits:
    """Set by the operator (docs/CONFIGURATION.md): how many files, how large each and all."""

    count: int
    each_bytes: int
    total_bytes: int

    @property
    def each_mb(self) -> int:
        return self.each_bytes // 2**20


def attachment_limits() -> AttachmentLimits:
    return AttachmentLimits(
        count=settings.INTAKE_MAX_ATTACHMENTS,
        each_bytes=settings.INTAKE_MAX_ATTACHMENT_BYTES,
        total_bytes=settings.INTAKE_MAX_ATTACHMENTS_TOTAL_BYTES,
    )


def _check_attachments(problems: dict[str, str], attachments: list[Attachment]) -> None:
    limits = attachment_limits()
    if len(attachments) > limits.count:
        problems["attachments"] = f"at most {limits.count} files"
        return
    for attachment in attachments:
        if len(attachment.content) > limits.each_bytes:
            problems["attachments"] = (
                f"{safe_filename(attachment.filename)!r} is larger than {limits.each_mb} MB"
            )
            return
    if refused := check_attachments((a.filename, a.content) for a in attachments):
        name, reason = refused
        problems["attachments"] = f"{safe_filename(name)!r} {reason}"
        return
    if sum(len(a.content) for a in attachments) > limits.total_bytes:
        problems["attachments"] = f"the files add up to more than {limits.total_bytes // 2**20} MB"


def decompression_bomb(content: bytes) -> str:
    """Why one file alone looks like a decompression bomb, or "" (see ``intake/archives.py``)."""
    refused = check_attachments([("", content)])
    return refused[1] if refused else ""
