"""What changed between two revisions of an advisory, field by field, for the team.

Text fields are compared line by line (``web/text_diff.py``); a changed line is also compared word
by word, so a one-word fix in a long summary shows as that word. Lists (affected packages, credits,
references, CWEs) are compared as one line per entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vulndesk.advisories.content import AdvisoryContent
from vulndesk.web.text_diff import DiffLine, diff_lines


@dataclass(frozen=True)
class FieldDiff:
    label: str
    lines: tuple[DiffLine, ...]

    @property
    def changed(self) -> bool:
        return any(line.kind != "same" for line in self.lines)


def field_lines(content: AdvisoryContent) -> dict[str, list[str]]:
    """Each field of the content as the lines the diff compares, under the editor's labels."""
    return {
        "Title": [content.title],
        "Summary": content.summary.splitlines(),
        "Details": content.details.splitlines(),
        "Affected packages": [_affected_line(a) for a in content.affected],
        "CVSS 4.0": [content.cvss40_vector] if content.cvss40_vector else [],
        "CVSS 3.1": [content.cvss31_vector] if content.cvss31_vector else [],
        "Severity": [content.severity] if content.severity else [],
        "Weaknesses": list(content.cwes),
        "Aliases": list(content.aliases),
        "Related": list(content.related),
        "Upstream": list(content.upstream),
        "Credits": [_credit_line(c) for c in content.credits],
        "Workarounds and mitigations": content.mitigations.splitlines(),
        "References": [f"{r['url']} ({r.get('type', 'WEB')})" for r in content.references],
    }


def _affected_line(entry: dict[str, Any]) -> str:
    functions = entry.get("functions", [])
    return f"{entry['package']} {entry['affected']}" + (f" in {' '.join(functions)}" if functions else "")


def _credit_line(credit: dict[str, Any]) -> str:
    contact = credit.get("contact", [])
    role = credit["type"].replace("_", " ")
    return f"{credit['name']} ({role})" + (f" {' '.join(contact)}" if contact else "")


def diff_contents(old: AdvisoryContent, new: AdvisoryContent) -> list[FieldDiff]:
    before, after = field_lines(old), field_lines(new)
    return [FieldDiff(label, tuple(diff_lines(before[label], after[label]))) for label in before]
