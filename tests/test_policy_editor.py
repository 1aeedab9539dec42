"""The policy editor: a form per section, driven by the policy's schema, beside the TOML view;
the policy's own messages by the field at fault; a SECURITY.md preview before saving; and what
changed between two saved versions."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.projects.models import Project
from vulndesk.projects.policy_form import FormField, section_form, sections

from .conftest import signed_in


def _as_sent(fields: list[FormField]) -> dict[str, str | list[str]]:
    """What a browser sends for the form as it is shown."""
    sent: dict[str, str | list[str]] = {}
    for f in fields:
        if f.widget == "checkbox":
            if f.value:
                sent[f.key] = "on"
        elif f.widget == "choices":
            sent[f.key] = list(f.value)
        elif f.widget != "schema_only":
            sent[f.key] = str(f.value)
    return sent


def _post_section(
    client: Client, section: str, sent: dict[str, str | list[str]], action: str = "save"
) -> str:
    response = client.post("/desk/p/llm-d/policy/", {**sent, "section": section, "action": action})
    return response.content.decode() if response.status_code != 302 else f"302 {response['Location']}"


@pytest.mark.parametrize("section", [name for name, _ in sections()])
def test_each_section_round_trips_through_its_form_unchanged(
    admin: User, project_a: Project, section: str
) -> None:
    client = signed_in(admin)
    page = client.get(f"/desk/p/llm-d/policy/?section={section}").content.decode()
    form = section_form(project_a.policy, section)
    for f in form.fields:
        if f.widget != "schema_only":
            assert f'name="{f.key}"' in page
    before = project_a.policy
    assert (
        _post_section(client, section, _as_sent(form.fields))
        == f"302 /desk/p/llm-d/policy/?section={section}"
    )
    project_a.refresh_from_db()
    assert project_a.policy == before
    assert project_a.policy_version == 1  # nothing changed: no new version


def test_a_changed_field_is_saved(admin: User, project_a: Project) -> None:
    client = signed_in(admin)
    sent = _as_sent(section_form(project_a.policy, "sla").fields)
    sent["sla.acknowledge_working_days"] = "2"
    sent["sla.update_cadence_days.critical"] = "3"
    _post_section(client, "sla", sent)
    project_a.refresh_from_db()
    assert project_a.policy.sla.acknowledge_working_days == 2
    assert project_a.policy.sla.update_cadence_days.critical == 3
    disclosure = _as_sent(section_form(project_a.policy, "disclosure").fields)
    disclosure["disclosure.publication_weekdays"] = ["tuesday", "thursday"]
    disclosure["disclosure.advisory_channels"] = "GitHub security advisories\n\nThe project blog\n"
    _post_section(client, "disclosure", disclosure)
    project_a.refresh_from_db()
    assert [str(d) for d in project_a.policy.disclosure.publication_weekdays] == ["tuesday", "thursday"]
    assert project_a.policy.disclosure.advisory_channels == ["GitHub security advisories", "The project blog"]


def test_a_validation_error_is_shown_by_its_field_and_nothing_typed_is_lost(
    admin: User, project_a: Project
) -> None:
    client = signed_in(admin)
    sent = _as_sent(section_form(project_a.policy, "sla").fields)
    sent["sla.acknowledge_working_days"] = "400"
    sent["sla.first_reply_working_days"] = "soon"
    page = _post_section(client, "sla", sent)
    assert "The policy was not saved." in page
    ack = re.search(
        r'<div class="policy-field field-error">\s*'
        r'<label for="policy-sla-acknowledge-working-days">.*?</div>',
        page,
        re.DOTALL,
    )
    assert ack is not None
    assert 'value="400"' in ack.group(0)
    assert "Input should be less than or equal to 365" in ack.group(0)
    reply = re.search(r'<label for="policy-sla-first-reply-working-days">.*?</div>', page, re.DOTALL)
    assert reply is not None
    assert 'value="soon"' in reply.group(0)
    assert "valid integer" in reply.group(0)
    project_a.refresh_from_db()
    assert project_a.policy_version == 1


def test_a_cross_field_rule_names_its_field(admin: User, project_a: Project) -> None:
    client = signed_in(admin)
    sent = _as_sent(section_form(project_a.policy, "disclosure").fields)
    sent["disclosure.maximum_embargo_days"] = "10"
    sent["disclosure.default_embargo_days"] = "90"
    page = _post_section(client, "disclosure", sent)
    field = re.search(r'<label for="policy-disclosure-maximum-embargo-days">.*?</div>', page, re.DOTALL)
    assert field is not None
    assert "Cannot be shorter than default_embargo_days" in field.group(0)


def test_the_preview_shows_the_security_md_before_saving(admin: User, project_a: Project) -> None:
    client = signed_in(admin)
    sent = _as_sent(section_form(project_a.policy, "sla").fields)
    sent["sla.acknowledge_working_days"] = "1"
    sent["sla.first_reply_working_days"] = "1"
    page = _post_section(client, "sla", sent, action="preview")
    assert "SECURITY.md with these changes (not saved yet)" in page
    preview = page.split('<pre class="code" tabindex="0">', 1)[1].split("</pre>", 1)[0]
    assert "1 working day" in preview
    assert 'value="1"' in page  # the form keeps what was typed
    project_a.refresh_from_db()
    assert project_a.policy_version == 1
    toml = client.post("/desk/p/llm-d/policy/", {"policy": project_a.policy.as_toml(), "action": "preview"})
    assert "SECURITY.md with these changes" in toml.content.decode()


def test_the_toml_view_stays_and_says_what_is_wrong(admin: User, project_a: Project) -> None:
    client = signed_in(admin)
    bad = client.post("/desk/p/llm-d/policy/", {"policy": "[sla\n", "action": "save"})
    assert bad.status_code == 400
    assert "not valid TOML" in bad.content.decode()
    assert "[sla\n" in bad.content.decode()


def test_the_diff_between_two_saved_versions(admin: User, project_a: Project) -> None:
    client = signed_in(admin)
    sent = _as_sent(section_form(project_a.policy, "sla").fields)
    sent["sla.acknowledge_working_days"] = "2"
    _post_section(client, "sla", sent)
    sent = _as_sent(section_form(Project.objects.get(pk=project_a.pk).policy, "project").fields)
    sent["project.description"] = "<script>alert(1)</script> A new description."
    _post_section(client, "project", sent)
    page = client.get("/desk/p/llm-d/policy/").content.decode()
    assert "/desk/p/llm-d/policy/diff/?from=1&amp;to=2" in page
    diff = client.get("/desk/p/llm-d/policy/diff/?from=1&to=2").content.decode()
    assert '<li class="diff-changed">' in diff
    assert "<del>3</del><ins>2</ins>" in diff
    assert "unchanged lines" in diff  # only the change and the lines around it
    latest = client.get("/desk/p/llm-d/policy/diff/").content.decode()  # the latest two by default
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in latest
    assert "<script>alert(1)" not in latest
    assert client.get("/desk/p/llm-d/policy/diff/?from=1&to=99").status_code == 404


def test_the_form_follows_the_schema(project_a: Project) -> None:
    """Each widget comes from the field's type: a new policy field needs no change to the form."""
    widgets = {f.key: f.widget for name, _ in sections() for f in section_form(project_a.policy, name).fields}
    assert widgets["distributors.enabled"] == "checkbox"
    assert widgets["sla.needs_info_days"] == "number"
    assert widgets["disclosure.fix_to_disclosure_unit"] == "select"
    assert widgets["calendar.weekend"] == "choices"
    assert widgets["contacts.intake_addresses"] == "lines"
    assert widgets["disclosure.statement"] == "textarea"
    assert widgets["project.name"] == "text"
    assert widgets["reporter_guidance.fields"] == "schema_only"
