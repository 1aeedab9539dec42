"""Fitting the duplicate model's weights and threshold on labelled candidates, for
``bench.duplicates_bench --fit`` and ``--folds``.

A logistic regression by Newton's method: a handful of features and a thousand candidates need no
library. The weights are penalised (L2, not the intercept) so that a feature seen on few reports
cannot take a large weight from them alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from vulndesk.duplicates.ranking import Evidence

L2_PENALTY = 1.0
NEWTON_STEPS = 30
# The thresholds tried: a grid, not the scores themselves, so a threshold is not set to one report.
THRESHOLDS = tuple(t / 100 for t in range(5, 96))
NEGATIVES_LIMIT = 0.05


def fit(examples: Sequence[tuple[Evidence, bool]]) -> tuple[float, ...]:
    """The weights (intercept first) that best predict which candidates are the right original."""
    rows = [((1.0, *evidence.measured()), 1.0 if right else 0.0) for evidence, right in examples]
    weights = [0.0] * len(rows[0][0])
    for _ in range(NEWTON_STEPS):
        gradient, hessian = _derivatives(rows, weights)
        step = _solve(hessian, gradient)
        weights = [w - s for w, s in zip(weights, step, strict=True)]
    return tuple(round(w, 2) for w in weights)


def _derivatives(
    rows: list[tuple[tuple[float, ...], float]], weights: list[float]
) -> tuple[list[float], list[list[float]]]:
    size = len(weights)
    gradient = [0.0] * size
    hessian = [[0.0] * size for _ in range(size)]
    for x, label in rows:
        p = 1.0 / (1.0 + math.exp(-sum(w * v for w, v in zip(weights, x, strict=True))))
        for i in range(size):
            gradient[i] += (p - label) * x[i]
            for j in range(size):
                hessian[i][j] += p * (1 - p) * x[i] * x[j]
    for i in range(1, size):  # the intercept is not penalised
        gradient[i] += L2_PENALTY * weights[i]
        hessian[i][i] += L2_PENALTY
    return gradient, hessian


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting; the penalty keeps the matrix invertible."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for i in range(size):
        pivot = max(range(i, size), key=lambda k: abs(rows[k][i]))
        rows[i], rows[pivot] = rows[pivot], rows[i]
        for k in range(i + 1, size):
            factor = rows[k][i] / rows[i][i]
            rows[k] = [a - factor * b for a, b in zip(rows[k], rows[i], strict=True)]
    solution = [0.0] * size
    for i in reversed(range(size)):
        known = sum(rows[i][j] * solution[j] for j in range(i + 1, size))
        solution[i] = (rows[i][size] - known) / rows[i][i]
    return solution
