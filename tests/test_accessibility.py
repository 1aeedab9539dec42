"""Help and error text linked to their fields: every id an ``aria-describedby`` names exists on the
page, so a screen reader announces a field's help and its error with the field."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.projects.models import Project


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[str] = []

    def handle_starttag(self, _tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        self.described_by.extend((found.get("aria-describedby") or "").split())


def dangling_descriptions(html: str) -> tuple[list[str], list[str]]:
    """The ids named by aria-describedby that no element carries, and every id named."""
    parser = _References()
    parser.feed(html)
    return [ref for ref in parser.described_by if ref not in parser.ids], parser.described_by


@pytest.mark.parametrize("slug", ["llm-d", "agentic-tool-mesh", "fast-llm"])
def test_the_report_forms_help_and_errors_are_linked_to_their_fields(
    slug: str, client: Client, project_a: Project, project_b: Project
) -> None:
    from vulndesk.projects.actions import do_import_policy  # noqa: PLC0415

    from .conftest import example_policy  # noqa: PLC0415

    if slug == "fast-llm":
        do_import_policy(example_policy(slug), acting_user=None)
    empty = client.get(f"/p/{slug}/report/").content.decode()
    dangling, named = dangling_descriptions(empty)
    assert any(ref.endswith("_helptext") for ref in named)
    assert dangling == []
    refused = client.post(f"/p/{slug}/report/", {"title": ""})
    assert refused.status_code == 400
    html = refused.content.decode()
    dangling, named = dangling_descriptions(html)
    assert dangling == []
    assert "id_title_error" in named  # the title's error is read with the title


def test_the_password_help_on_the_account_page_is_read_with_its_field(alice: User) -> None:
    from .conftest import signed_in  # noqa: PLC0415

    html = signed_in(alice).get("/accounts/").content.decode()
    dangling, named = dangling_descriptions(html)
    assert "id_new_password1_helptext" in named
    assert dangling == []
