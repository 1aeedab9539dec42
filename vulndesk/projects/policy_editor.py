"""The policy editor's state for one request: a section's form or the whole TOML, what was wrong
with it, the SECURITY.md it would render; and the comparison of two saved versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tomli_w
from django.http import Http404, QueryDict

from vulndesk.projects.policy import Policy, PolicyError, parse_policy_toml
from vulndesk.projects.policy_form import SectionForm, apply_section, form_with_problems, section_form
from vulndesk.projects.rendering import render_security_md
from vulndesk.web.text_diff import DiffLine, Segment, diff_lines

if TYPE_CHECKING:
    from vulndesk.projects.models import PolicyRevision, Project


@dataclass
class PolicyEditor:
    project: Project
    section: str  # "" for the TOML view
    text: str = ""
    form: SectionForm | None = None
    problems: list[str] = field(default_factory=list)
    preview: str = ""

    def __post_init__(self) -> None:
        self.text = self.project.policy.as_toml()
        if self.section:
            self.form = section_form(self.project.policy, self.section)

    @property
    def has_problems(self) -> bool:
        if self.form is not None:
            return bool(self.form.problems or any(f.problems for f in self.form.fields))
        return bool(self.problems)

    def take(self, posted: QueryDict) -> Policy | None:
        """The policy as sent, checked, or None (the problems are kept, and what was typed)."""
        try:
            candidate = self._candidate(posted)
        except PolicyError as exc:
            self.fail(exc, posted)
            return None
        if self.section:
            self.form = section_form(candidate, self.section)
        if posted.get("action") == "preview":
            self.preview = render_security_md(self.project, candidate)
        return candidate

    def fail(self, error: PolicyError, posted: QueryDict) -> None:
        if self.section:
            self.form = form_with_problems(section_form(self.project.policy, self.section), posted, error)
        else:
            self.problems = error.problems

    def _candidate(self, posted: QueryDict) -> Policy:
        if self.section:
            return apply_section(self.project.policy, self.section, posted)
        self.text = posted.get("policy", "")
        return parse_policy_toml(self.text)


CONTEXT = 3


@dataclass(frozen=True)
class Comparison:
    revisions: list[PolicyRevision]
    old: PolicyRevision
    new: PolicyRevision
    lines: list[DiffLine]

    @property
    def changed(self) -> bool:
        return any(line.kind not in {"same", "gap"} for line in self.lines)


def compare_revisions(project: Project, old_text: str, new_text: str) -> Comparison:
    """Two saved versions (by default the latest and the one before); 404 for one that is not."""
    revisions = list(project.policy_revisions.select_related("changed_by").order_by("-version"))
    by_version = {revision.version: revision for revision in revisions}
    new = _chosen(by_version, new_text, revisions[0].version)
    old = _chosen(by_version, old_text, revisions[1].version if len(revisions) > 1 else new.version)
    lines = diff_lines(_toml_lines(old.document), _toml_lines(new.document))
    return Comparison(revisions, old, new, around_changes(lines))


def around_changes(lines: list[DiffLine]) -> list[DiffLine]:
    """The changed lines with CONTEXT lines either side; each longer unchanged run becomes one
    "gap" line saying how many lines it hides (a policy is long, a change is usually short)."""
    near = {
        i + offset
        for i, line in enumerate(lines)
        if line.kind != "same"
        for offset in range(-CONTEXT, CONTEXT + 1)
    }
    shown: list[DiffLine] = []
    hidden = 0
    for i, line in enumerate(lines):
        if i in near:
            if hidden:
                shown.append(_gap(hidden))
                hidden = 0
            shown.append(line)
        else:
            hidden += 1
    return [*shown, _gap(hidden)] if hidden else shown


def _gap(count: int) -> DiffLine:
    return DiffLine("gap", (Segment("same", f"… {count} unchanged line{'s' if count != 1 else ''}"),))


def _chosen(by_version: dict[int, PolicyRevision], text: str, default: int) -> PolicyRevision:
    version = int(text) if text.isdigit() else default
    if version not in by_version:
        raise Http404
    return by_version[version]


def _toml_lines(document: dict[str, Any]) -> list[str]:
    try:
        return Policy.model_validate(document).as_toml().splitlines()
    except ValueError:
        # A version saved under an older schema: compared as it was stored.
        return tomli_w.dumps(document).splitlines()
