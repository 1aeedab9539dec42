"""The CVSS calculators: radio choices store the same vector a pasted string would, and every score
is shown with its rating word, on the desk, the reporter's page and the public advisory."""

from __future__ import annotations

import re

from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from vulndesk.accounts.models import User
from vulndesk.advisories.actions import (
    do_approve_draft,
    do_create_advisory,
    do_edit_draft,
    do_publish_advisory,
    do_share_draft_with_reporter,
)
from vulndesk.advisories.content import AdvisoryContent
from vulndesk.cases.calculator import VERSIONS, CvssVersion, calculator, submitted_vector
from vulndesk.cases.models import Triage
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project

from .conftest import a_report, signed_in

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5 High
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N"  # 9.3 Critical


def _choices(field: str, vector: str) -> dict[str, str]:
    """The radio choices a person makes to write ``vector``, as the form posts them."""
    metrics = vector.split("/")[1:]
    return {f"{field}-{code}": value for code, value in (m.split(":") for m in metrics)}


def _severity(team: Client, report: Report, form: dict[str, str]) -> str:
    """Save the severity form, then open it again on its own page (the case page summarizes it)."""
    case = f"/desk/p/{report.project.slug}/reports/{report.number}/"
    team.post(f"{case}severity/", {"cwes": "", **form})
    return team.get(f"{case}edit/severity/").content.decode()


def _checked(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]+)" checked', page)
    return found.group(1) if found else ""


def test_choosing_cvss_31_radios_stores_the_vector_a_paste_would(alice: User, project_a: Project) -> None:
    report = a_report(project_a)
    page = _severity(signed_in(alice), report, {"cvss31": "", "cvss31_shown": "", **_choices("cvss31", V31)})
    assert "Severity saved." in page
    triage = Triage.objects.get(report=report)
    assert triage.cvss31_vector == V31
    assert triage.cvss31_score == 7.5
    assert triage.rating == "High"
    assert "7.5 High" in page


def test_choosing_cvss_40_radios_stores_the_vector_a_paste_would(alice: User, project_a: Project) -> None:
    report = a_report(project_a)
    _severity(signed_in(alice), report, {"cvss40": "", "cvss40_shown": "", **_choices("cvss40", V40)})
    triage = Triage.objects.get(report=report)
    assert triage.cvss40_vector == V40
    assert triage.cvss40_score == 9.3
    assert triage.rating == "Critical"


def test_a_pasted_vector_selects_its_radios_and_an_unchanged_form_stores_it_again(
    alice: User, project_a: Project
) -> None:
    report = a_report(project_a)
    team = signed_in(alice)
    page = _severity(team, report, {"cvss31": V31, "cvss40": V40})
    for code, value in (("AV", "N"), ("S", "U"), ("C", "H"), ("I", "N")):
        assert _checked(page, f"cvss31-{code}") == value
    for code, value in (("AT", "N"), ("VI", "H"), ("SA", "N")):
        assert _checked(page, f"cvss40-{code}") == value
    assert f'name="cvss31_shown" value="{V31}"' in page
    # Saving the page as it is (text as shown, radios as pre-selected) changes nothing.
    form = {"cvss31": V31, "cvss31_shown": V31, "cvss40": V40, "cvss40_shown": V40}
    _severity(team, report, {**form, **_choices("cvss31", V31), **_choices("cvss40", V40)})
    triage = Triage.objects.get(report=report)
    assert (triage.cvss31_vector, triage.cvss40_vector) == (V31, V40)


def test_a_radio_choice_changes_the_base_metric_and_keeps_pasted_temporal_metrics(
    alice: User, project_a: Project
) -> None:
    report = a_report(project_a)
    team = signed_in(alice)
    pasted = V31 + "/E:P/RL:O"
    _severity(team, report, {"cvss31": pasted})
    choices = {**_choices("cvss31", V31), "cvss31-I": "H"}
    _severity(team, report, {"cvss31": pasted, "cvss31_shown": pasted, **choices})
    assert Triage.objects.get(report=report).cvss31_vector == (
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N/E:P/RL:O"
    )


def test_a_vector_typed_over_the_shown_one_wins_over_the_radios(alice: User, project_a: Project) -> None:
    report = a_report(project_a)
    team = signed_in(alice)
    _severity(team, report, {"cvss31": V31})
    other = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
    _severity(team, report, {"cvss31": other, "cvss31_shown": V31, **_choices("cvss31", V31)})
    assert Triage.objects.get(report=report).cvss31_vector == other


def test_some_radios_without_the_others_are_refused_naming_the_missing_metrics(
    alice: User, project_a: Project
) -> None:
    report = a_report(project_a)
    page = _severity(signed_in(alice), report, {"cvss31": "", "cvss31-AV": "N", "cvss31-AC": "L"})
    assert "Severity not saved" in page
    assert "choose a value for Privileges Required, User Interaction, Scope" in page
    assert not Triage.objects.filter(report=report, cvss31_vector__gt="").exists()


def test_the_score_of_a_vector_is_answered_to_the_team_only(
    alice: User, bob: User, project_a: Project
) -> None:
    report = a_report(project_a)
    url = f"/desk/p/llm-d/reports/{report.number}/severity/score/"
    answer = signed_in(alice).post(url, {"vector": V31})
    assert answer.json() == {"vector": V31, "score": 7.5, "rating": "High", "text": "7.5 High"}
    refused = signed_in(alice).post(url, {"vector": "CVSS:3.1/AV:Q"})
    assert refused.status_code == 422
    assert "AV:Q" in refused.json()["problem"]
    assert signed_in(bob).post(url, {"vector": V31}).status_code == 404


def _published(project: Project, author: User, reviewer: User, report: Report | None = None) -> str:
    advisory = do_create_advisory(project, report=report, acting_user=author)
    content = AdvisoryContent(
        title="Tool output reaches eval()",
        summary="A crafted answer runs code.",
        affected=[{"package": "pkg:pypi/llm-d", "affected": "<1.0"}],
        cvss31_vector=V31,
        cvss40_vector=V40,
    )
    do_edit_draft(advisory, content, acting_user=author)
    do_approve_draft(advisory, acting_user=reviewer)
    do_publish_advisory(advisory, acting_user=reviewer)
    return advisory.identifier


def test_the_public_advisory_shows_each_score_with_its_rating_word(
    client: Client, alice: User, admin: User, project_a: Project
) -> None:
    identifier = _published(project_a, alice, admin)
    page = client.get(f"/p/llm-d/advisories/{identifier}/").content.decode()
    assert "7.5 High · <code>" + V31 in page
    assert "9.3 Critical · <code>" + V40 in page


def test_the_reporter_reads_the_scores_of_the_shared_draft_with_their_rating_words(
    client: Client, alice: User, project_a: Project
) -> None:
    payload = {"title": "t", "description": "d", "reporter_email": "rita@researcher.test"}
    receipt = client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").json()
    report = Report.objects.get(number=receipt["number"], project=project_a)
    advisory = do_create_advisory(project_a, report=report, acting_user=alice)
    do_edit_draft(advisory, AdvisoryContent(title="T", cvss31_vector=V31), acting_user=alice)
    do_share_draft_with_reporter(advisory, acting_user=alice)
    page = client.get(receipt["tracking_url"].removeprefix("http://testserver")).content.decode()
    assert "CVSS 3.1 7.5 High" in page


@st.composite
def _radio_choices(draw: st.DrawFn, version: CvssVersion) -> dict[str, str]:
    return {
        f"{version.field}-{metric.code}": draw(st.sampled_from([c.code for c in metric.choices]))
        for metric in version.metrics
    }


@settings(max_examples=150, deadline=None)
@given(data=st.data(), version=st.sampled_from(VERSIONS))
def test_any_radio_choices_make_the_vector_the_cvss_package_reads_back_the_same(
    data: st.DataObject, version: CvssVersion
) -> None:
    choices = data.draw(_radio_choices(version))
    vector = submitted_vector({version.field: "", f"{version.field}_shown": "", **choices}, version)
    assert version.score(vector).vector == vector  # the package's clean vector: nothing reordered
    shown = calculator(version, vector)
    assert {f"{version.field}-{g.metric.code}": g.selected for g in shown.groups} == choices
