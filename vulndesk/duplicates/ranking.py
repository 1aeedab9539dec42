"""Ranking a new report against a project's earlier ones: BM25 on the words, plus shared marks.

Both parts are scaled by what a report could score against itself (the words in both directions,
the new report's marks), so a score reads the same for a one-line report and a long one: 1.0 is
"says everything this report says", and one threshold (``SHOWN_THRESHOLD``) serves every project.
The weights and the threshold were tuned on the labelled set the benchmark reads (bench/README.md,
"Duplicate suggestions").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from vulndesk.duplicates.fingerprints import FLAW_LABELS, Profile

K1, B = 1.2, 0.75
PRIOR_DOCUMENTS = 20
GAP_WEIGHT = 0.3
LEXICAL_WEIGHT = 0.6
MARK_WEIGHT = 0.4
# How much a shared mark of each kind says (a shared function name far more than a version).
MARK_KIND_WEIGHT = {
    "path": 1.0,
    "function": 1.0,
    "endpoint": 1.0,
    "parameter": 0.6,
    "cwe": 0.5,
    "version": 0.3,
    "flaw": 0.5,
}
FLAW_MISMATCH = 0.7
CONSEQUENCES = frozenset({"dos"})
MAX_SUGGESTIONS = 5
MIN_REASON_WORD = 3
# From this score on, the queue shows "possible duplicate of #N" and the case page marks it.
SHOWN_THRESHOLD = 0.45
MARK_LABEL = {
    "path": "same file",
    "function": "same function",
    "endpoint": "same endpoint",
    "parameter": "same parameter",
    "cwe": "same CWE",
    "version": "same version",
    "flaw": "same kind of flaw",
}


@dataclass(frozen=True)
class Suggestion:
    candidate: Hashable
    score: float
    reasons: list[str]


class Corpus:
    """Word and mark frequencies over the reports ranked against, plus the new one."""

    def __init__(self, profiles: Sequence[Profile], *, prior_documents: int = PRIOR_DOCUMENTS) -> None:
        self.size = len(profiles) + prior_documents
        self.average_length = sum(p.length for p in profiles) / max(len(profiles), 1) or 1.0
        self.term_df: Counter[str] = Counter(t for p in profiles for t in p.terms)
        self.mark_df: Counter[tuple[str, str]] = Counter(
            (kind, value) for p in profiles for kind, values in p.marks.items() for value in values
        )

    def idf(self, df: int) -> float:
        return math.log((self.size - df + 0.5) / (df + 0.5) + 1.0)

    def bm25(self, query: Profile, document: Profile) -> float:
        norm = K1 * (1 - B + B * document.length / self.average_length)
        total = 0.0
        for term in query.terms:
            tf = document.terms.get(term, 0)
            if tf:
                total += self.idf(self.term_df[term]) * tf * (K1 + 1) / (tf + norm)
        return total

    def mark_weight(self, kind: str, value: str) -> float:
        return MARK_KIND_WEIGHT[kind] * self.idf(self.mark_df[(kind, value)])


def rank(query: Profile, candidates: Sequence[tuple[Hashable, Profile]]) -> list[Suggestion]:
    """The best ``MAX_SUGGESTIONS`` candidates for ``query``, best first, each with its reasons."""
    if not candidates:
        return []
    corpus = Corpus([query, *(p for _, p in candidates)])
    self_lexical = corpus.bm25(query, query) or 1.0
    self_marks = _mark_total(corpus, query) or 1.0
    scored = []
    for key, candidate in candidates:
        lexical = _lexical(corpus, query, candidate, self_lexical)
        shared = _shared_marks(query, candidate)
        mark_score = min(sum(corpus.mark_weight(k, v) for k, v in shared) / self_marks, 1.0)
        score = (LEXICAL_WEIGHT * lexical + MARK_WEIGHT * mark_score) * _flaw_agreement(query, candidate)
        scored.append(Suggestion(key, score, _reasons(corpus, query, candidate, shared)))
    scored = [s for s in scored if s.score > 0]  # nothing in common is no suggestion
    scored.sort(key=lambda s: -s.score)
    return _against_the_rest(scored[: MAX_SUGGESTIONS + 1])[:MAX_SUGGESTIONS]


def _against_the_rest(scored: list[Suggestion]) -> list[Suggestion]:
    """Each score less a share of the best other candidate's: a report that matches one earlier
    report stands out, one that matches many of a project's reports alike (the same component,
    another flaw) does not."""
    shown = []
    for i, suggestion in enumerate(scored):
        rival = max((s.score for j, s in enumerate(scored) if j != i), default=0.0)
        score = max(suggestion.score - GAP_WEIGHT * rival, 0.0)
        shown.append(Suggestion(suggestion.candidate, round(score, 4), suggestion.reasons))
    return shown


def _lexical(corpus: Corpus, query: Profile, candidate: Profile, self_lexical: float) -> float:
    """How much of the new report the earlier one says, or of the earlier one the new one says,
    whichever is more: a one-line report of a long original (or the reverse) is still a match."""
    covered = corpus.bm25(query, candidate) / self_lexical
    covering = corpus.bm25(candidate, query) / (corpus.bm25(candidate, candidate) or 1.0)
    return min(max(covered, covering), 1.0)


def _flaw_agreement(query: Profile, candidate: Profile) -> float:
    """Two reports that each name the kind of flaw, and not the same one, are most often two flaws
    of one function (a null binding and a CHECK-fail in the same TensorFlow op): worth less."""
    return FLAW_MISMATCH if _differ(query, candidate, "flaw") or _differ(query, candidate, "path") else 1.0


def _differ(query: Profile, candidate: Profile, kind: str) -> bool:
    # A denial of service is what most flaws lead to, not which flaw it is.
    mine = query.marks.get(kind, set()) - CONSEQUENCES
    theirs = candidate.marks.get(kind, set()) - CONSEQUENCES
    return bool(mine and theirs and not mine & theirs)


def _mark_total(corpus: Corpus, profile: Profile) -> float:
    return sum(corpus.mark_weight(kind, v) for kind, values in profile.marks.items() for v in values)


def _shared_marks(query: Profile, candidate: Profile) -> list[tuple[str, str]]:
    return [
        (kind, value)
        for kind, values in query.marks.items()
        for value in sorted(values & candidate.marks.get(kind, set()))
    ]


def _readable(value: str) -> str:
    # A kind of flaw is kept as one folded word ("divzero"); a person reads its name.
    return FLAW_LABELS.get(value, value)


def _reasons(corpus: Corpus, query: Profile, candidate: Profile, shared: list[tuple[str, str]]) -> list[str]:
    """Why a person should look: the shared marks, rarest first, then the rarest shared words."""
    by_weight = sorted(shared, key=lambda m: -corpus.mark_weight(*m))
    reasons = [f"{MARK_LABEL[kind]}: {_readable(value)}" for kind, value in by_weight[:4]]
    words = sorted(
        (t for t in query.terms if t in candidate.terms and len(t) >= MIN_REASON_WORD),
        key=lambda t: -corpus.idf(corpus.term_df[t]),
    )
    if words:
        reasons.append("similar wording: " + ", ".join(_readable(w) for w in words[:5]))
    return reasons
