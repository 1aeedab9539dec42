"""What changed between two revisions of an advisory, field by field, for the team.

Text fields are compared line by line with ``difflib``; a changed line is also compared word by
word, so a one-word fix in a long summary shows as that word. Lists (affected packages, credits,
references, CWEs) are compared as one line per entry.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from vulndesk.advisories.content import AdvisoryContent

_WORDS = re.compile(r"(\s+)")


@dataclass(frozen=True)
class Segment:
    kind: str  # "same", "removed", "added"
    text: str


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "removed", "added", "changed"
    segments: tuple[Segment, ...]


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


def diff_lines(old: list[str], new: list[str]) -> list[DiffLine]:
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [DiffLine("same", (Segment("same", text),)) for text in old[a1:a2]]
            continue
        removed, added = old[a1:a2], new[b1:b2]
        paired = min(len(removed), len(added)) if tag == "replace" else 0
        lines += [_changed(removed[i], added[i]) for i in range(paired)]
        lines += [DiffLine("removed", (Segment("removed", text),)) for text in removed[paired:]]
        lines += [DiffLine("added", (Segment("added", text),)) for text in added[paired:]]
    return lines


def _changed(old: str, new: str) -> DiffLine:
    """One line changed in place: the words that went and came, among those that stayed."""
    old_words, new_words = _WORDS.split(old), _WORDS.split(new)
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("same", "".join(old_words[a1:a2])))
            continue
        if a2 > a1:
            segments.append(Segment("removed", "".join(old_words[a1:a2])))
        if b2 > b1:
            segments.append(Segment("added", "".join(new_words[b1:b2])))
    return DiffLine("changed", tuple(segments))
