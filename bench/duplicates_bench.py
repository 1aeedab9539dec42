"""Duplicate suggestions measured on a labelled set: ``python -m bench.duplicates_bench [FOLDER]``.

FOLDER (or ``VULNDESK_DUPES_DIR``) holds ``originals.jsonl``, ``queries.jsonl`` and
``negatives.jsonl`` as described in bench/README.md; the default is ``../shared/dupes`` beside the
repository. The set is read where it lies, never copied into the repository.

Each query and each negative is ranked, as the worker ranks a new report, against the earlier
reports of its project: the originals of the same package. It prints recall@1 and recall@5 over the
queries, and at the threshold the pages use the share of duplicates flagged at rank 1 (the right
original, above the threshold) and the share of negatives flagged at all; then time per report
and peak memory. ``--ranker bm25`` measures BM25 alone (the baseline), ``--sweep`` prints the
flagged shares at other thresholds.

``--fit`` fits the model's weights and threshold (``ranking.WEIGHTS``, ``ranking.SHOWN_THRESHOLD``)
on the whole set and prints them. ``--folds K`` guards against tuning to one set: the projects are
split into K folds, and each fold is measured with weights and threshold fitted on the other folds
only (for BM25 alone, its threshold); the held-out figures are pooled over the folds. With
``--repeats N``, N splits into folds are measured (the first is the split above; the others break
ties between projects of one size in a seeded random order), and the spread is printed.

``--embeddings [minilm|wordllama]`` adds a last measurement to the fitted model: the cosine of the
two reports' sentence embeddings (``bench.duplicates_embeddings``; its packages are not vulndesk's
and are imported only then). The shipped weights have no slope for it, so it is measured by ``--fit`` (which
it implies) and ``--folds``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from bench.duplicates_embeddings import MODELS, Embedder, EmbeddingsMissingError, cosine, load_embedder
from bench.duplicates_fit import NEGATIVES_LIMIT, THRESHOLDS, fit
from vulndesk.duplicates import ranking
from vulndesk.duplicates.fingerprints import Profile, profile

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = REPO.parent / "shared" / "dupes"


@dataclass(frozen=True)
class Outcome:
    expected: str | None
    ranked: list[tuple[str, float]]


@dataclass(frozen=True)
class Weighed:
    """A labelled new report and its candidates' evidence, which does not depend on the weights."""

    package: str
    expected: str | None
    candidates: list[tuple[str, ranking.Evidence]]
    bm25_ranked: list[tuple[str, float]]  # the baseline's ranking, for its own cross-validation


def load(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def bm25_alone(query: Profile, candidates: list[tuple[str, Profile]]) -> list[tuple[str, float]]:
    corpus = ranking.Corpus([query, *(p for _, p in candidates)], prior_documents=0)  # plain Okapi BM25
    self_score = corpus.bm25(query, query) or 1.0
    scored = [(key, min(corpus.bm25(query, p) / self_score, 1.0)) for key, p in candidates]
    return sorted(scored, key=lambda s: -s[1])[: ranking.MAX_SUGGESTIONS]


def combined(query: Profile, candidates: list[tuple[str, Profile]]) -> list[tuple[str, float]]:
    return [(str(s.candidate), s.score) for s in ranking.rank(query, candidates)]


RANKERS = {"combined": combined, "bm25": bm25_alone}


def projects(folder: Path) -> dict[str, list[tuple[str, Profile]]]:
    """Each package's originals: the earlier reports of its project."""
    by_package: dict[str, list[tuple[str, Profile]]] = defaultdict(list)
    for original in load(folder, "originals.jsonl"):
        by_package[original["package"]].append(
            (original["id"], profile(original["title"], original["description"]))
        )
    return by_package


def run(folder: Path, ranker: str) -> tuple[list[Outcome], list[Outcome], float]:
    by_package = projects(folder)
    rank = RANKERS[ranker]
    started = time.perf_counter()
    outcomes: dict[str, list[Outcome]] = {}
    for name in ("queries.jsonl", "negatives.jsonl"):
        outcomes[name] = [
            Outcome(
                item["duplicate_of"],
                rank(profile(item["title"], item["description"]), by_package[item["package"]]),
            )
            for item in load(folder, name)
        ]
    count = sum(len(o) for o in outcomes.values())
    return outcomes["queries.jsonl"], outcomes["negatives.jsonl"], (time.perf_counter() - started) / count


def recall_at(queries: list[Outcome], k: int) -> float:
    return sum(q.expected in [key for key, _ in q.ranked[:k]] for q in queries) / len(queries)


def flagged_at_rank_1(queries: list[Outcome], threshold: float) -> float:
    return sum(
        bool(q.ranked) and q.ranked[0] == (q.expected, q.ranked[0][1]) and q.ranked[0][1] >= threshold
        for q in queries
    ) / len(queries)


def negatives_flagged(negatives: list[Outcome], threshold: float) -> float:
    return sum(bool(n.ranked) and n.ranked[0][1] >= threshold for n in negatives) / len(negatives)


def weighed_set(folder: Path, embed: Embedder | None = None) -> list[Weighed]:
    """Every labelled new report with its candidates' evidence; with ``embed``, the evidence
    carries the cosine of the two reports' embeddings too."""
    by_package = projects(folder)
    new_reports = load(folder, "queries.jsonl") + load(folder, "negatives.jsonl")
    vectors = embedded(folder, new_reports, embed) if embed else {}
    weighed = []
    for item in new_reports:
        query, candidates = profile(item["title"], item["description"]), by_package[item["package"]]
        corpus = ranking.Corpus([query, *(p for _, p in candidates)])
        evidence = [(str(key), e) for key, e in ranking.weigh(corpus, query, candidates)]
        if vectors:
            mine = vectors[_text(item)]
            evidence = [(key, replace(e, semantic=cosine(mine, vectors[key]))) for key, e in evidence]
        baseline = bm25_alone(query, candidates)
        weighed.append(Weighed(item["package"], item["duplicate_of"], evidence, baseline))
    return weighed


def embedded(
    folder: Path, new_reports: list[dict[str, str]], embed: Embedder
) -> dict[str, tuple[float, ...]]:
    """Each original's vector by its id, and each new report's by its text; prints the time."""
    originals = load(folder, "originals.jsonl")
    texts = [_text(o) for o in originals] + [_text(n) for n in new_reports]
    started = time.perf_counter()
    vectors = embed(texts)
    spent = time.perf_counter() - started
    print(f"embeddings: {len(texts)} reports in {spent:.1f} s, {spent / len(texts) * 1000:.0f} ms each")
    by_text = dict(zip(texts, vectors, strict=True))
    return {**{o["id"]: by_text[_text(o)] for o in originals}, **by_text}


def _text(report: dict[str, str]) -> str:
    return f"{report['title']}\n\n{report['description']}"


def outcomes(weighed: list[Weighed], weights: tuple[float, ...]) -> tuple[list[Outcome], list[Outcome]]:
    """The queries' and the negatives' outcomes, ranked by the model with ``weights``."""
    ranked = [
        Outcome(
            w.expected,
            sorted(((k, ranking.probability(e, weights)) for k, e in w.candidates), key=lambda s: -s[1])[
                : ranking.MAX_SUGGESTIONS
            ],
        )
        for w in weighed
    ]
    return [o for o in ranked if o.expected], [o for o in ranked if not o.expected]


def fitted(weighed: list[Weighed]) -> tuple[tuple[float, ...], float]:
    """Weights fitted on ``weighed``, and the threshold that flags the most duplicates at rank 1
    while flagging at most 5% of its negatives."""
    weights = fit([(e, key == w.expected) for w in weighed for key, e in w.candidates])
    return weights, best_threshold(*outcomes(weighed, weights))


def best_threshold(queries: list[Outcome], negatives: list[Outcome]) -> float:
    allowed = [t for t in THRESHOLDS if negatives_flagged(negatives, t) <= NEGATIVES_LIMIT]
    return max(allowed, key=lambda t: (flagged_at_rank_1(queries, t), -t))


def folds_by_package(weighed: list[Weighed], count: int, seed: int = 0) -> list[set[str]]:
    """Whole projects to a fold, largest first to the smallest fold: no project's reports are on
    both sides, so a fold's figures are for projects the weights never saw. Projects of one size
    go in the order of their names, or with a ``seed`` in a shuffled order: another split."""
    sizes: dict[str, int] = defaultdict(int)
    for w in weighed:
        sizes[w.package] += 1
    shuffled = random.Random(seed)
    tie = {p: shuffled.random() if seed else 0.0 for p in sorted(sizes)}
    folds: list[set[str]] = [set() for _ in range(count)]
    filled = [0] * count
    for package in sorted(sizes, key=lambda p: (-sizes[p], tie[p], p)):
        smallest = filled.index(min(filled))
        folds[smallest].add(package)
        filled[smallest] += sizes[package]
    return folds


def cross_validated(
    weighed: list[Weighed], count: int, ranker: str, seed: int = 0
) -> tuple[list[Outcome], list[Outcome]]:
    """Held-out outcomes, pooled: each fold ranked and thresholded by what the other folds taught.
    A held-out score is shifted by its fold's threshold, so that 0 is the threshold for all."""
    queries, negatives = [], []
    for fold in folds_by_package(weighed, count, seed):
        taught = [w for w in weighed if w.package not in fold]
        held = [w for w in weighed if w.package in fold]
        if ranker == "bm25":
            threshold = best_threshold(*bm25_outcomes(taught))
            fold_queries, fold_negatives = bm25_outcomes(held)
        else:
            weights, threshold = fitted(taught)
            fold_queries, fold_negatives = outcomes(held, weights)
        queries += [_shifted(o, threshold) for o in fold_queries]
        negatives += [_shifted(o, threshold) for o in fold_negatives]
    return queries, negatives


def _shifted(outcome: Outcome, threshold: float) -> Outcome:
    return Outcome(outcome.expected, [(k, score - threshold) for k, score in outcome.ranked])


def bm25_outcomes(weighed: list[Weighed]) -> tuple[list[Outcome], list[Outcome]]:
    ranked = [Outcome(w.expected, w.bm25_ranked) for w in weighed]
    return [o for o in ranked if o.expected], [o for o in ranked if not o.expected]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "folder", nargs="?", default=os.environ.get("VULNDESK_DUPES_DIR", str(DEFAULT_FOLDER))
    )
    parser.add_argument("--ranker", choices=sorted(RANKERS), default="combined")
    parser.add_argument("--threshold", type=float, default=ranking.SHOWN_THRESHOLD)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--fit", action="store_true", help="fit the weights and threshold on the whole set")
    parser.add_argument(
        "--folds", type=int, default=0, help="cross-validate over this many folds of projects"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="cross-validate over this many splits into folds"
    )
    parser.add_argument(
        "--embeddings",
        nargs="?",
        const="minilm",
        choices=MODELS,
        help="add the cosine of this model's embeddings (minilm if none is named) to the fitted model",
    )
    options = parser.parse_args(argv)
    if options.repeats > 1 and options.folds < 2:  # one fold is no cross-validation
        parser.error("--repeats N measures N splits into folds: give --folds K too")
    folder = Path(options.folder)
    if not (folder / "originals.jsonl").is_file():
        print(f"no labelled set in {folder}: pass its folder or set VULNDESK_DUPES_DIR", file=sys.stderr)
        return 2
    try:
        embed = load_embedder(options.embeddings) if options.embeddings else None
    except EmbeddingsMissingError as missing:
        print(f"{missing}; they are not vulndesk's dependencies, install them beside it", file=sys.stderr)
        return 2
    queries, negatives, per_report = run(folder, options.ranker)
    print(f"ranker {options.ranker}: {len(queries)} duplicates, {len(negatives)} negatives")
    print(f"recall@1 {recall_at(queries, 1):.3f}  recall@5 {recall_at(queries, 5):.3f}")
    thresholds = [t / 100 for t in range(20, 90, 5)] if options.sweep else [options.threshold]
    for threshold in thresholds:
        duplicates, wrong = flagged_at_rank_1(queries, threshold), negatives_flagged(negatives, threshold)
        shares = f"duplicates flagged at rank 1 {duplicates:.1%}, negatives flagged {wrong:.1%}"
        print(f"threshold {threshold:.2f}: {shares}")
    weighed = weighed_set(folder, embed) if options.fit or options.folds > 1 or embed else []
    if options.fit or embed:
        _print_fitted(weighed, "words, marks and embeddings" if embed else "words and marks")
    if options.folds > 1:
        _print_cross_validated(weighed, options.folds, options.ranker)
    if options.folds > 1 and options.repeats > 1:
        _print_repeated(weighed, options.folds, options.ranker, options.repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"time per report {per_report * 1000:.1f} ms, peak memory {peak:.0f} MB")
    return 0


def _print_fitted(weighed: list[Weighed], measured: str) -> None:
    weights, threshold = fitted(weighed)
    queries, negatives = outcomes(weighed, weights)
    shown = ", ".join(f"{w:.2f}" for w in weights)
    print(
        f"fitted on the whole set: weights {shown}, threshold {threshold:.2f} ({measured}): "
        f"recall@1 {recall_at(queries, 1):.3f}  recall@5 {recall_at(queries, 5):.3f}; duplicates "
        f"flagged at rank 1 {flagged_at_rank_1(queries, threshold):.1%}, negatives flagged "
        f"{negatives_flagged(negatives, threshold):.1%}"
    )


def _print_cross_validated(weighed: list[Weighed], count: int, ranker: str) -> None:
    queries, negatives = cross_validated(weighed, count, ranker)
    flagged, wrong = flagged_at_rank_1(queries, 0.0), negatives_flagged(negatives, 0.0)
    print(
        f"cross-validated over {count} folds of projects ({ranker}): recall@1 {recall_at(queries, 1):.3f}  "
        f"recall@5 {recall_at(queries, 5):.3f}; at each fold's threshold: duplicates flagged at "
        f"rank 1 {flagged:.1%}, negatives flagged {wrong:.1%}"
    )


def _print_repeated(weighed: list[Weighed], count: int, ranker: str, repeats: int) -> None:
    """One split into folds is one draw: a split that happens to put the hard negatives on one
    side moves the figures by a report or two. Here, the spread over several splits."""
    shares = []
    for seed in range(repeats):
        queries, negatives = cross_validated(weighed, count, ranker, seed)
        shares.append((flagged_at_rank_1(queries, 0.0), negatives_flagged(negatives, 0.0)))
    flagged, wrong = [f for f, _ in shares], [n for _, n in shares]
    print(
        f"cross-validated over {repeats} splits into {count} folds ({ranker}): duplicates flagged at "
        f"rank 1 {sum(flagged) / repeats:.1%} on average ({min(flagged):.1%} to {max(flagged):.1%}), "
        f"negatives flagged {sum(wrong) / repeats:.1%} ({min(wrong):.1%} to {max(wrong):.1%})"
    )


if __name__ == "__main__":
    sys.exit(main())
