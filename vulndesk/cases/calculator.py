"""The CVSS 3.1 and 4.0 calculators of the severity section: base metrics as radio choices.

The stored value stays the vector string (``cases/severity.py`` scores it): the radios are another
way to write it. A form carries, per version, the text field (``cvss31``), the vector it showed
(``cvss31_shown``) and one radio group per base metric (``cvss31-AV``). A vector typed or pasted
into the text field wins; otherwise the choices make the vector. Metrics beyond the base ones
(temporal, threat, environmental) of the shown vector are kept, so choosing a base metric never
drops what someone pasted earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cvss import constants3, constants4

from vulndesk.cases.cvss40 import scores as cvss40_scores
from vulndesk.cases.severity import Score, SeverityError, cvss31, cvss40


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Metric:
    code: str  # "AV"
    name: str  # "Attack Vector"
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class CvssVersion:
    field: str  # the form's text field and the prefix of its radio groups: "cvss31"
    label: str  # "CVSS 3.1"
    prefix: str  # "CVSS:3.1"
    metrics: tuple[Metric, ...]

    def score(self, vector: str) -> Score:
        return cvss31(vector) if self.field == "cvss31" else cvss40(vector)


# The cvss package's own names; CVSS 4.0 calls its impacts "Vulnerable/Subsequent System Impact ...",
# too long for a phone, so the groups are headed by what the specification's calculator shows.
_SHORT_NAMES_40 = {
    "AT": "Attack Requirements",
    "VC": "Confidentiality (vulnerable system)",
    "VI": "Integrity (vulnerable system)",
    "VA": "Availability (vulnerable system)",
    "SC": "Confidentiality (subsequent systems)",
    "SI": "Integrity (subsequent systems)",
    "SA": "Availability (subsequent systems)",
}


def _metrics(
    names: Mapping[str, str], values: Mapping[str, Mapping[str, str]], base: list[str]
) -> tuple[Metric, ...]:
    return tuple(
        Metric(code, names[code], tuple(Choice(value, label) for value, label in values[code].items()))
        for code in base
    )


CVSS31 = CvssVersion(
    "cvss31",
    "CVSS 3.1",
    "CVSS:3.1",
    _metrics(constants3.METRICS_ABBREVIATIONS, constants3.METRICS_VALUE_NAMES, constants3.METRICS_MANDATORY),
)
CVSS40 = CvssVersion(
    "cvss40",
    "CVSS 4.0",
    "CVSS:4.0",
    _metrics(
        {**constants4.METRICS_ABBREVIATIONS, **_SHORT_NAMES_40},
        constants4.METRICS_VALUE_NAMES,
        constants4.METRICS_MANDATORY,
    ),
)
VERSIONS = (CVSS40, CVSS31)


def metric_values(vector: str) -> dict[str, str]:
    """``CVSS:3.1/AV:N/AC:L`` -> ``{"AV": "N", "AC": "L"}``; anything unreadable is left out."""
    _, _, metrics = vector.strip().partition("/")
    found = {}
    for part in metrics.split("/"):
        code, separator, value = part.partition(":")
        if separator and code and value:
            found[code] = value
    return found


def compose(version: CvssVersion, chosen: Mapping[str, str], keep_from: str = "") -> str:
    """The vector of ``chosen`` base metrics, in the specification's order, followed by the
    non-base metrics of ``keep_from`` (a vector of the same version)."""
    base = {metric.code for metric in version.metrics}
    kept = metric_values(keep_from) if keep_from.startswith(version.prefix + "/") else {}
    parts = [f"{metric.code}:{chosen[metric.code]}" for metric in version.metrics]
    parts += [f"{code}:{value}" for code, value in kept.items() if code not in base]
    return "/".join([version.prefix, *parts])


def submitted_vector(form: Mapping[str, str], version: CvssVersion) -> str:
    """The vector a severity form asks to store for ``version`` ("" clears it).

    Raises SeverityError when some base metrics are chosen and others are not.
    """
    typed = form.get(version.field, "").strip()
    shown = form.get(f"{version.field}_shown", "").strip()
    chosen = {m.code: form.get(f"{version.field}-{m.code}", "").strip() for m in version.metrics}
    if typed != shown or not any(chosen.values()):
        return typed  # pasted (or cleared) by hand: the text is what the person meant
    missing = [m.name for m in version.metrics if not chosen[m.code]]
    if missing:
        raise SeverityError(f"{version.label}: choose a value for {', '.join(missing)}")
    return compose(version, chosen, keep_from=shown)


@dataclass(frozen=True)
class MetricGroup:
    """One radio group as a template draws it."""

    metric: Metric
    name: str  # the radio group's form name
    selected: str


@dataclass(frozen=True)
class Calculator:
    version: CvssVersion
    vector: str
    score: Score | None
    groups: tuple[MetricGroup, ...]


def calculator(version: CvssVersion, vector: str) -> Calculator:
    """The calculator pre-set from ``vector``: a stored or pasted vector selects its radios."""
    values = metric_values(vector) if vector.startswith(version.prefix + "/") else {}
    groups = tuple(
        MetricGroup(metric, f"{version.field}-{metric.code}", values.get(metric.code, ""))
        for metric in version.metrics
    )
    return Calculator(version, vector, score_or_none(version, vector), groups)


def score_or_none(version: CvssVersion, vector: str) -> Score | None:
    if not vector:
        return None
    try:
        return version.score(vector)
    except SeverityError:
        return None


def score_with_rating(vector: str) -> str:
    """``"7.5 High"`` for a CVSS 3.1 or 4.0 vector; "" for anything else."""
    version = CVSS31 if vector.startswith(CVSS31.prefix + "/") else CVSS40
    score = score_or_none(version, vector)
    if score is None:
        return ""
    shown = f"{score.score:.1f} {score.rating}"
    if version is CVSS40:
        # FIRST's nomenclature: the base score is CVSS-B; with threat or environmental metrics the
        # vector also has a CVSS-BT/BE/BTE score, shown with its own label.
        more = cvss40_scores(score.vector)
        shown = f"CVSS-B {shown}"
        if more.has_more_than_base:
            shown += f" · {more.nomenclature} {more.score:.1f} {more.rating}"
    return shown
