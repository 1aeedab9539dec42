"""Two texts compared line by line with ``difflib``, a changed line also word by word, so a one-word
fix in a long paragraph shows as that word: an advisory's revisions and a policy's versions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_WORDS = re.compile(r"(\s+)")


@dataclass(frozen=True)
class Segment:
    kind: str  # "same", "removed", "added"
    text: str


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "removed", "added", "changed"
    segments: tuple[Segment, ...]


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
