"""A report's answers as its reporter gave them: in the order the project's policy asks for them.

The answers are sealed as JSON with sorted keys, so their stored order is alphabetical; the policy
(``[reporter_guidance] fields``) is the order the form asked them in, and the order to read them in.
"""

from __future__ import annotations

from vulndesk.intake.models import Report
from vulndesk.projects.commitments import FIELD_LABELS
from vulndesk.projects.policy import ReportField


def answers_in_policy_order(report: Report) -> list[tuple[str, str]]:
    """(label, answer) pairs: the description, then the policy's fields in its order, then any
    answer to a field the policy no longer asks for (it changed since the report), by name."""
    answers = report.fields
    ordered = [("Description", answers.pop("description", ""))]
    ordered += [
        (FIELD_LABELS[requested.name], answers.pop(requested.name.value))
        for requested in report.project.policy.reporter_guidance.fields
        if requested.name.value in answers
    ]
    ordered += [(label_of(name), answers[name]) for name in sorted(answers)]
    return ordered


def label_of(name: str) -> str:
    try:
        return FIELD_LABELS[ReportField(name)]
    except ValueError:
        return name.replace("_", " ").capitalize()
