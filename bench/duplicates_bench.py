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
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from vulndesk.duplicates import ranking
from vulndesk.duplicates.fingerprints import Profile, profile

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = REPO.parent / "shared" / "dupes"


@dataclass(frozen=True)
class Outcome:
    expected: str | None
    ranked: list[tuple[str, float]]


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


def run(folder: Path, ranker: str) -> tuple[list[Outcome], list[Outcome], float]:
    by_package: dict[str, list[tuple[str, Profile]]] = defaultdict(list)
    for original in load(folder, "originals.jsonl"):
        by_package[original["package"]].append(
            (original["id"], profile(original["title"], original["description"]))
        )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "folder", nargs="?", default=os.environ.get("VULNDESK_DUPES_DIR", str(DEFAULT_FOLDER))
    )
    parser.add_argument("--ranker", choices=sorted(RANKERS), default="combined")
    parser.add_argument("--threshold", type=float, default=ranking.SHOWN_THRESHOLD)
    parser.add_argument("--sweep", action="store_true")
    options = parser.parse_args(argv)
    folder = Path(options.folder)
    if not (folder / "originals.jsonl").is_file():
        print(f"no labelled set in {folder}: pass its folder or set VULNDESK_DUPES_DIR", file=sys.stderr)
        return 2
    queries, negatives, per_report = run(folder, options.ranker)
    print(f"ranker {options.ranker}: {len(queries)} duplicates, {len(negatives)} negatives")
    print(f"recall@1 {recall_at(queries, 1):.3f}  recall@5 {recall_at(queries, 5):.3f}")
    thresholds = [t / 100 for t in range(20, 90, 5)] if options.sweep else [options.threshold]
    for threshold in thresholds:
        duplicates, wrong = flagged_at_rank_1(queries, threshold), negatives_flagged(negatives, threshold)
        shares = f"duplicates flagged at rank 1 {duplicates:.1%}, negatives flagged {wrong:.1%}"
        print(f"threshold {threshold:.2f}: {shares}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"time per report {per_report * 1000:.1f} ms, peak memory {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
