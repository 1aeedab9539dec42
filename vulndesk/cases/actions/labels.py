"""Labels: the team files reports under its own words."""

from __future__ import annotations

import re

from django.db import transaction

from vulndesk.accounts.models import User
from vulndesk.audit.actions import record_event
from vulndesk.cases.models import Label
from vulndesk.intake.models import Report
from vulndesk.intake.submission import SubmissionError

LABEL_NAME = re.compile(r"^[a-z0-9][a-z0-9 ._-]{0,39}$")


def clean_label(name: str) -> str:
    """A label is a short lower-case word or phrase, so that "Parser" and "parser" are one label."""
    cleaned = " ".join(name.split()).lower()
    if not LABEL_NAME.match(cleaned):
        raise SubmissionError(
            {"label": "a label is 1 to 40 letters, digits, spaces, dots, dashes or underscores"}
        )
    return cleaned


def do_label_report(report: Report, name: str, *, acting_user: User) -> bool:
    """File the report under the label (made on first use); False when it already was."""
    label_name = clean_label(name)
    with transaction.atomic():
        label, _ = Label.objects.get_or_create(project=report.project, name=label_name)
        if label.reports.filter(pk=report.pk).exists():
            return False
        label.reports.add(report)
        record_event(
            "report.labelled",
            acting_user=acting_user,
            project=report.project,
            target=report,
            details={"label": label_name},
        )
    return True
