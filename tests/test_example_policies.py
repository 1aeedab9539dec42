"""The example policies in examples/policies/: each validates, survives a round trip through TOML,
and states its seed's key commitments; a malformed policy is refused naming the field at fault.

No database is needed: these tests speak to the policy schema only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from vulndesk.projects.policy import Policy, PolicyError, ReportField, parse_policy_toml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
SLUGS = ["fast-llm", "llm-d", "agentic-tool-mesh"]


def _text(slug: str) -> str:
    return (EXAMPLES / f"{slug}.toml").read_text(encoding="utf-8")


def _example(slug: str) -> Policy:
    return parse_policy_toml(_text(slug))


def _document(slug: str) -> dict[str, Any]:
    return tomllib.loads(_text(slug))


def _problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as refused:
        parse_policy_toml(text)
    assert refused.value.problems, "a refused policy must say what is wrong"
    return refused.value.problems


def _problems_of(document: dict[str, Any]) -> list[str]:
    return _problems(tomli_w.dumps(document))


# Each example validates and round-trips.


@pytest.mark.parametrize("slug", SLUGS)
def test_each_example_parses_and_is_filed_under_its_own_slug(slug: str) -> None:
    assert _example(slug).project.slug == slug


@pytest.mark.parametrize("slug", SLUGS)
def test_each_example_reimports_from_its_export_as_the_same_policy(slug: str) -> None:
    policy = _example(slug)
    assert parse_policy_toml(policy.as_toml()) == policy


@pytest.mark.parametrize("slug", SLUGS)
def test_a_second_export_of_each_example_is_byte_identical_to_the_first(slug: str) -> None:
    first = _example(slug).as_toml()
    assert parse_policy_toml(first).as_toml() == first


@pytest.mark.parametrize("slug", SLUGS)
def test_each_example_says_what_it_cannot_express_and_names_its_seed(slug: str) -> None:
    header = _text(slug).split("schema_version", 1)[0]
    assert "What this policy cannot express, and why" in header
    assert "Seed:" in header


# The seeds' key commitments.


def test_fast_llm_supports_no_version_while_it_is_pre_release() -> None:
    versions = _example("fast-llm").supported_versions
    assert versions.mode == "none"
    assert versions.count is None
    assert versions.versions == []


def test_fast_llm_keeps_the_eight_servicenow_guidelines_word_for_word() -> None:
    guidance = _example("fast-llm").reporter_guidance
    assert len(guidance.guidelines) == 8
    assert guidance.guidelines[2] == (
        "Please do not disclose an issue to the public or any third party until ServiceNow has resolved it."
    )
    assert "ReproNow" in guidance.guidelines[1]
    assert guidance.guidelines[-1].startswith("Please do not request compensation")


def test_fast_llm_reports_go_to_the_servicenow_psirt() -> None:
    contacts = _example("fast-llm").contacts
    assert contacts.intake_addresses == ["disclosure@servicenow.com"]
    assert contacts.external_policy_url == (
        "https://www.servicenow.com/company/trust/privacy/responsible-disclosure.html"
    )


def test_llm_d_acknowledges_each_report_within_3_working_days() -> None:
    assert _example("llm-d").sla.acknowledge_working_days == 3


def test_llm_d_expects_disclosure_about_7_days_after_a_straightforward_mitigation() -> None:
    disclosure = _example("llm-d").disclosure
    assert disclosure.fix_to_disclosure == 7
    assert disclosure.fix_to_disclosure_unit == "calendar_days"
    assert disclosure.fix_to_disclosure_applies_to == "any"


def test_llm_d_maintainers_hold_the_final_say_after_negotiating_with_the_reporter() -> None:
    disclosure = _example("llm-d").disclosure
    assert disclosure.final_say == "The llm-d maintainers"
    assert disclosure.negotiated_with == ["reporter"]


def test_llm_d_reports_go_to_the_private_list_and_news_to_the_announce_group() -> None:
    contacts = _example("llm-d").contacts
    assert contacts.intake_addresses == ["llm-d-security-reporting@googlegroups.com"]
    assert contacts.security_announce_list == "llm-d-security-announce@googlegroups.com"
    assert contacts.security_announce_url == "https://groups.google.com/g/llm-d-security-announce"


def test_llm_d_says_when_to_report_and_when_not_to() -> None:
    guidance = _example("llm-d").reporter_guidance
    assert len(guidance.report_when) == 3
    assert guidance.do_not_report_when == [
        "You need help tuning llm-d components for security",
        "You need help applying security related updates",
        "Your issue is not security related",
    ]


def test_agentic_tool_mesh_starts_a_conversation_within_5_working_days() -> None:
    assert _example("agentic-tool-mesh").sla.first_reply_working_days == 5


def test_agentic_tool_mesh_supports_the_three_most_recent_minor_releases() -> None:
    versions = _example("agentic-tool-mesh").supported_versions
    assert versions.mode == "recent_minor"
    assert versions.count == 3


def test_agentic_tool_mesh_expects_14_business_days_to_disclosure_for_a_critical_issue() -> None:
    disclosure = _example("agentic-tool-mesh").disclosure
    assert disclosure.fix_to_disclosure == 14
    assert disclosure.fix_to_disclosure_unit == "business_days"
    assert disclosure.fix_to_disclosure_applies_to == "critical"


def test_agentic_tool_mesh_negotiates_with_reporter_and_distributors() -> None:
    policy = _example("agentic-tool-mesh")
    assert policy.disclosure.negotiated_with == ["reporter", "distributors"]
    assert policy.disclosure.final_say == "The LLM Agentic Tool Mesh Security Team"


def test_agentic_tool_mesh_has_a_distributors_list_with_seven_criteria_and_an_embargo_policy() -> None:
    distributors = _example("agentic-tool-mesh").distributors
    assert distributors.enabled
    assert len(distributors.membership_criteria) == 7
    assert distributors.embargo_policy.startswith("The information that members receive")
    assert "permanently removed from the list" in distributors.embargo_policy


def test_agentic_tool_mesh_asks_for_every_proposed_email_item_but_requires_none() -> None:
    fields = _example("agentic-tool-mesh").reporter_guidance.fields
    assert [f.name for f in fields] == list(ReportField)
    assert not any(f.required for f in fields)


def test_agentic_tool_mesh_puts_confidentiality_and_integrity_first_and_speaks_english() -> None:
    policy = _example("agentic-tool-mesh")
    assert [str(i) for i in policy.severity.highest_priority_impacts] == ["confidentiality", "integrity"]
    assert policy.reporter_guidance.preferred_languages == ["en"]
    assert "IMMEDIATELY" in policy.reporter_guidance.publicly_known
    assert policy.contacts.intake_addresses == ["github@hpe.com"]


# Malformed policies are refused, naming the field at fault.


def test_a_misspelled_key_is_refused_naming_its_dotted_path() -> None:
    text = _text("llm-d").replace("acknowledge_working_days = 3", "acknowledge_workingdays = 3")
    problems = _problems(text)
    assert any(p.startswith("sla.acknowledge_workingdays: ") for p in problems), problems
    assert any(p.startswith("sla.acknowledge_working_days: is required") for p in problems), problems


def test_a_timezone_that_is_not_iana_is_refused_naming_calendar_timezone() -> None:
    document = _document("llm-d")
    document["calendar"]["timezone"] = "Eastern Standard Time"
    problems = _problems_of(document)
    assert problems == [
        "calendar.timezone: 'Eastern Standard Time' is not an IANA timezone such as 'Europe/Rome'"
    ]


def test_a_maximum_embargo_shorter_than_the_default_is_refused_naming_both_fields() -> None:
    document = _document("agentic-tool-mesh")
    document["disclosure"]["maximum_embargo_days"] = document["disclosure"]["default_embargo_days"] - 1
    problems = _problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith("disclosure.maximum_embargo_days: ")
    assert "default_embargo_days" in problems[0]


def test_recent_minor_without_a_count_is_refused_naming_supported_versions() -> None:
    document = _document("agentic-tool-mesh")
    del document["supported_versions"]["count"]
    problems = _problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith("supported_versions.count: ")


def test_an_unknown_holiday_country_is_refused_naming_holiday_country() -> None:
    document = _document("fast-llm")
    document["calendar"]["holiday_country"] = "XX"
    problems = _problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith("calendar.holiday_country: 'XX'")


def test_a_holiday_country_in_lower_case_is_refused_naming_its_dotted_path() -> None:
    document = _document("fast-llm")
    document["calendar"]["holiday_country"] = "us"
    problems = _problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith("calendar.holiday_country: ")


def test_broken_toml_syntax_is_refused_before_any_field_is_read() -> None:
    text = _text("llm-d").replace("[sla]", "[sla", 1)
    problems = _problems(text)
    assert len(problems) == 1
    assert problems[0].startswith("not valid TOML: ")


def test_an_enabled_distributors_list_without_criteria_is_refused_naming_distributors() -> None:
    document = _document("agentic-tool-mesh")
    document["distributors"]["membership_criteria"] = []
    problems = _problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith("distributors.membership_criteria: ")
