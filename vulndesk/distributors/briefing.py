"""What a distributor is told about a case: the body of each notice and the portal's page."""

from __future__ import annotations

from dataclasses import dataclass, field

from vulndesk.cases.actions.fixes import backport_matrix, fix_plan_of, unsupported_lines
from vulndesk.cases.actions.triage import triage_of
from vulndesk.distributors.models import CaseShare
from vulndesk.embargo.actions import active_embargo_end
from vulndesk.embargo.emails import when


@dataclass(frozen=True)
class Briefing:
    """What a distributor is told about a case: the notice's body and the portal's page."""

    project_name: str
    number: int
    title: str
    summary: str
    rating: str
    cvss31: str
    cvss40: str
    cwes: list[str]
    affected: list[tuple[str, str]]
    backports: list[dict[str, str]] = field(default_factory=list)
    # Release lines of the affected packages that get no fix: a distributor shipping one must know.
    not_supported: list[str] = field(default_factory=list)
    mitigations: str = ""
    timeline: str = ""
    disclosure: str = ""


def briefing(share: CaseShare) -> Briefing:
    report = share.report
    triage = triage_of(report)
    plan = fix_plan_of(report)
    return Briefing(
        project_name=report.project.name,
        number=report.number,
        title=report.title,
        summary=share.summary,
        rating=triage.rating,
        cvss31=f"{triage.cvss31_score} {triage.cvss31_vector}" if triage.cvss31_vector else "",
        cvss40=f"{triage.cvss40_score} {triage.cvss40_vector}" if triage.cvss40_vector else "",
        cwes=list(triage.cwes),
        affected=[(a.package, a.affected) for a in report.affected_packages.all()],
        backports=[
            {
                "package": row.package,
                "line": row.line,
                "branch": row.branch,
                "status": row.status.label,
                "fixed_version": row.entry.fixed_version if row.entry else "",
                "fix_reference": row.entry.fix_reference if row.entry else "",
            }
            for row in backport_matrix(report)
        ],
        not_supported=[f"{line.package} {line.label}" for line in unsupported_lines(report)],
        mitigations=plan.mitigations,
        timeline=plan.timeline,
        disclosure=when(active_embargo_end(report), report.project.policy.calendar.timezone),
    )
