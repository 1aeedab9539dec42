from __future__ import annotations

import json

from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.intake.models import Report, ReportSearchTerm
from vulndesk.intake.search import search, words

from .conftest import signed_in


def _report(client: Client, title: str, description: str) -> None:
    payload = json.dumps({"title": title, "description": description})
    assert (
        client.post("/api/v1/projects/llm-d/reports", payload, content_type="application/json").status_code
        == 201
    )


def test_the_team_finds_reports_by_words_of_their_sealed_text(client: Client, alice: User) -> None:
    _report(client, "Prompt injection in the router", "The tool router trusts model output.")
    _report(client, "SSRF in the fetcher", "Any URL is fetched, including metadata endpoints.")
    found = search(Report.objects.all(), "ROUTER injection")
    assert [r.title for r in found] == ["Prompt injection in the router"]
    assert list(search(Report.objects.all(), "router metadata")) == []
    page = signed_in(alice).get("/desk/reports/?q=metadata").content.decode()
    assert "SSRF in the fetcher" in page
    assert "Prompt injection" not in page


def test_the_index_holds_no_word_in_clear(client: Client, alice: User) -> None:
    _report(client, "Heap overflow in tokenizer", "tokenizer crashes")
    terms = list(ReportSearchTerm.objects.values_list("term", flat=True))
    assert terms
    assert all("token" not in t and "heap" not in t for t in terms)
    assert all(len(t) == 16 for t in terms)


def test_words_fold_case_and_accents_and_split_identifiers() -> None:
    assert {"résumé".casefold()} != words("RÉSUMÉ")
    assert "resume" in words("RÉSUMÉ")
    assert {"cve-2026-1234", "cve", "2026", "1234"} <= words("see CVE-2026-1234")
    assert "router.py" in words("in router.py line 3")


def test_another_teams_reports_never_match(client: Client, bob: User, alice: User) -> None:
    _report(client, "Secret llm-d thing", "details")
    assert "Secret llm-d thing" not in signed_in(bob).get("/desk/reports/?q=secret").content.decode()
