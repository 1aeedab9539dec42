"""osv.dev reads an exported OSV range exactly as vulndesk reads the case's ``vers`` range.

The evaluation below follows the OSV schema's "Evaluation" section (sort the events, walk them,
``introduced`` opens, ``fixed`` and a passed ``last_affected`` close) with PEP 440 ordering from
``packaging``, independently of univers; univers' answer on the vers range is the reference.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from vulndesk.advisories.exports.osv import events
from vulndesk.advisories.exports.ranges import spans_of
from vulndesk.cases.actions.affected import parse_range
from vulndesk.projects.releases import parse_version

PACKAGE = "pkg:pypi/llmesh"
versions = st.builds(
    lambda major, minor, patch, rc: f"{major}.{minor}.{patch}" + (f"rc{rc}" if rc else ""),
    st.integers(0, 3),
    st.integers(0, 4),
    st.integers(0, 4),
    st.sampled_from([0, 0, 0, 1, 2]),
)
span_kinds = st.sampled_from(["between", "between_inclusive", "exactly"])


def osv_affected(version: str, ranges: list[list[dict[str, str]]]) -> bool:
    """OSV schema, "Evaluation": a version is affected when any range's walk ends affected."""
    return any(_affected_in_range(Version(version), range_events) for range_events in ranges)


def _affected_in_range(version: Version, range_events: list[dict[str, str]]) -> bool:
    def order(event: dict[str, str]) -> tuple[bool, Version]:
        # OSV: introduced "0" is "a version that sorts before any other version", pre-releases too.
        (value,) = event.values()
        return (value != "0", Version(value))

    affected = False
    for event in sorted(range_events, key=order):
        if "introduced" in event and (event["introduced"] == "0" or version >= Version(event["introduced"])):
            affected = True
        elif _closes(event, version):
            affected = False
    return affected


def _closes(event: dict[str, str], version: Version) -> bool:
    if "fixed" in event:
        return version >= Version(event["fixed"])
    return "last_affected" in event and version > Version(event["last_affected"])


@st.composite
def vers_ranges(draw: st.DrawFn) -> str:
    """A vers range of disjoint spans: maybe a bare ``<b`` first, maybe an open ``>=a`` last."""
    kinds = draw(st.lists(span_kinds, max_size=3))
    opens_at_start = draw(st.booleans())
    open_at_end = draw(st.booleans())
    needed = 2 * len(kinds) + 2
    bounds = sorted(set(draw(st.lists(versions, min_size=needed, max_size=needed + 4))), key=Version)
    if len(bounds) < needed:
        bounds += [f"9.{i}.0" for i in range(needed - len(bounds))]
    constraints = []
    if opens_at_start:
        constraints.append(f"<{bounds.pop(0)}")
    for kind in kinds:
        low, high = bounds.pop(0), bounds.pop(0)
        if kind == "exactly":
            constraints.append(low)
        else:
            constraints += [f">={low}", f"<{high}" if kind == "between" else f"<={high}"]
    if open_at_end or not constraints:
        constraints.append(f">={bounds.pop(0)}")
    return "vers:pypi/" + "|".join(constraints)


@settings(max_examples=300, deadline=None)
@given(vers_ranges(), st.lists(versions, min_size=1, max_size=12))
def test_osv_events_affect_the_same_versions_as_the_vers_range(vers: str, probes: list[str]) -> None:
    version_range = parse_range(PACKAGE, vers)
    ranges = [events(span) for span in spans_of(version_range)]
    bounds = [value for range_events in ranges for event in range_events for value in event.values()]
    for probe in [*probes, *(b for b in bounds if b != "0")]:
        expected = parse_version(PACKAGE, probe) in version_range
        assert osv_affected(probe, ranges) == expected, (vers, probe, ranges)
