"""Ranking a new report against a project's earlier ones: BM25 on the words, plus shared marks,
read as the chance that the earlier report is the one the new report repeats.

Each candidate gets a few measurements (``Evidence``): how much of the words the two reports share
(BM25 scaled by what a report could score against itself, so a one-line report and a long one read
alike), how much of the new report's technical marks the candidate shares (weighted by rarity and
kind), whether the two name different kinds of flaw or different files, the best other candidate's
raw score (a report that matches many of a project's reports alike matches none of them in
particular), whether both name the same fixed release, and whether the new report names any mark
but a version at all (if not, the marks' share of 0 says nothing). A logistic model turns them into a
probability; its weights (``WEIGHTS``) and the threshold (``SHOWN_THRESHOLD``) were fitted on the
labelled set the benchmark reads, with five-fold cross-validation by package to check they carry
over to projects they were not fitted on (bench/README.md, "Duplicate suggestions").

BM25 is the fifteen lines of ``Corpus`` rather than ``bm25s``: a project's reports are a corpus of
one to a few hundred documents, ranked against once per new report, and the ranking needs what a
retrieval index does not give: a prior of ``PRIOR_DOCUMENTS`` in the document frequencies (without
it a word in two of a project's three reports reads as rare: 78.6% of the labelled duplicates
flagged in place of 83.0%, and 6.7% of negatives in place of 5.6% cross-validated), scores in both
directions and each report's score against itself.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

from vulndesk.duplicates.fingerprints import FLAW_LABELS, Profile

K1, B = 1.2, 0.75
PRIOR_DOCUMENTS = 20
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
# The candidates weighed against each other: one more than are shown, so the fifth has a rival.
WEIGHED = MAX_SUGGESTIONS + 1
MIN_REASON_WORD = 3
# Fitted by `python -m bench.duplicates_bench --fit`: a logistic regression (Newton's method, an L2
# penalty of 1.0 on the weights, not the intercept) over the six best candidates of each labelled
# report, the right original labelled 1 and every other candidate 0. In order: the intercept, then
# ``Evidence.measured()``.
WEIGHTS = (-3.71, 5.37, 3.05, -1.92, -4.45, 0.25, 0.92)
# From this probability on, the queue shows "possible duplicate of #N" and the case page marks it.
# Fitted with the weights: the lowest that flags at most 5% of the labelled set's negatives.
SHOWN_THRESHOLD = 0.37
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


@dataclass(frozen=True)
class Evidence:
    """What the model weighs for one candidate, each from 0 to 1."""

    lexical: float
    marks: float
    other_flaw: float  # 1.0: the two name different kinds of flaw, or different files
    rival: float  # the best other candidate's raw score
    same_fix: float  # 1.0: both name a fixed release, and one release is in both
    # 1.0: the new report names no technical mark but versions, so ``marks`` has nothing to share:
    # a one-line release note ("Moin 1.9.10 fixes a flaw in the editor") is not judged, by the
    # marks' absence, as if its marks had been compared and differed.
    unmarked: float = 0.0
    # The cosine of the two reports' sentence embeddings, only where an embedder is configured: the
    # benchmark measures it (``--embeddings``); the shipped weights have no slope for it.
    semantic: float | None = None

    def measured(self) -> tuple[float, ...]:
        """The measurements the weights' slopes apply to, in their order."""
        words = (self.lexical, self.marks, self.other_flaw, self.rival, self.same_fix, self.unmarked)
        return words if self.semantic is None else (*words, self.semantic)

    def raw(self) -> float:
        """The words and marks alone, as ranked before the model: it picks the candidates weighed."""
        return (LEXICAL_WEIGHT * self.lexical + MARK_WEIGHT * self.marks) * (
            FLAW_MISMATCH if self.other_flaw else 1.0
        )


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


def rank(
    query: Profile, candidates: Sequence[tuple[Hashable, Profile]], weights: Sequence[float] = WEIGHTS
) -> list[Suggestion]:
    """The best ``MAX_SUGGESTIONS`` candidates for ``query``, most likely first, each with its
    probability of being the report ``query`` repeats and the reasons."""
    if not candidates:
        return []
    corpus = Corpus([query, *(p for _, p in candidates)])
    weighed = weigh(corpus, query, candidates)
    by_key = dict(candidates)
    scored = [
        Suggestion(key, round(probability(evidence, weights), 4), _reasons(corpus, query, by_key[key]))
        for key, evidence in weighed
    ]
    scored.sort(key=lambda s: -s.score)
    return scored[:MAX_SUGGESTIONS]


def weigh(
    corpus: Corpus, query: Profile, candidates: Sequence[tuple[Hashable, Profile]]
) -> list[tuple[Hashable, Evidence]]:
    """The ``WEIGHED`` candidates with the best raw score, each with its evidence; a candidate
    sharing nothing with the query is no candidate."""
    self_lexical = corpus.bm25(query, query) or 1.0
    self_marks = _mark_total(corpus, query) or 1.0
    alone = [(key, _evidence(corpus, query, c, self_lexical, self_marks)) for key, c in candidates]
    best = sorted((c for c in alone if c[1].raw() > 0), key=lambda c: -c[1].raw())[:WEIGHED]
    return [
        (key, _against(evidence, max((e.raw() for k, e in best if k != key), default=0.0)))
        for key, evidence in best
    ]


def probability(evidence: Evidence, weights: Sequence[float] = WEIGHTS) -> float:
    intercept, *slopes = weights
    z = intercept + sum(w * x for w, x in zip(slopes, evidence.measured(), strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def _evidence(
    corpus: Corpus, query: Profile, candidate: Profile, self_lexical: float, self_marks: float
) -> Evidence:
    shared = sum(corpus.mark_weight(k, v) for k, v in _shared_marks(query, candidate))
    return Evidence(
        lexical=_lexical(corpus, query, candidate, self_lexical),
        marks=min(shared / self_marks, 1.0),
        other_flaw=1.0 if _other_flaw(query, candidate) else 0.0,
        rival=0.0,
        same_fix=1.0 if query.fixed_in & candidate.fixed_in else 0.0,
        unmarked=0.0 if _names_marks(query) else 1.0,
    )


def _against(evidence: Evidence, rival: float) -> Evidence:
    return replace(evidence, rival=rival)


def _lexical(corpus: Corpus, query: Profile, candidate: Profile, self_lexical: float) -> float:
    """How much of the new report the earlier one says, or of the earlier one the new one says,
    whichever is more: a one-line report of a long original (or the reverse) is still a match."""
    covered = corpus.bm25(query, candidate) / self_lexical
    covering = corpus.bm25(candidate, query) / (corpus.bm25(candidate, candidate) or 1.0)
    return min(max(covered, covering), 1.0)


def _names_marks(profile: Profile) -> bool:
    # A version is named by nearly every report; it is no mark of which flaw a report is about.
    return any(kind != "version" for kind in profile.marks)


def _other_flaw(query: Profile, candidate: Profile) -> bool:
    """Two reports that each name the kind of flaw, and not the same one, are most often two flaws
    of one function (a null binding and a CHECK-fail in the same TensorFlow op): worth less."""
    return _differ(query, candidate, "flaw") or _differ(query, candidate, "path")


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


def _reasons(corpus: Corpus, query: Profile, candidate: Profile) -> list[str]:
    """Why a person should look: the shared marks, rarest first, a shared fixed release, then the
    rarest shared words."""
    shared = _shared_marks(query, candidate)
    by_weight = sorted(shared, key=lambda m: -corpus.mark_weight(*m))
    reasons = [f"{MARK_LABEL[kind]}: {_readable(value)}" for kind, value in by_weight[:4]]
    reasons += [f"same fixed release: {v}" for v in sorted(query.fixed_in & candidate.fixed_in)[:1]]
    words = sorted(
        (t for t in query.terms if t in candidate.terms and len(t) >= MIN_REASON_WORD),
        key=lambda t: -corpus.idf(corpus.term_df[t]),
    )
    if words:
        reasons.append("similar wording: " + ", ".join(_readable(w) for w in words[:5]))
    return reasons
