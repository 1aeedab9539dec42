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
    team = signed_in(alice)
    response = team.post("/desk/reports/", {"q": "metadata", "state": "", "sort": "newest"})
    # The words are report contents: they are posted and kept (sealed) in the session, never in a URL.
    assert response.status_code == 302
    assert "metadata" not in response["Location"]
    assert "search=1" in response["Location"]
    page = team.get(response["Location"]).content.decode()
    assert "SSRF in the fetcher" in page
    assert "Prompt injection" not in page
    assert "metadata" not in page.split("<main", 1)[0]  # nor in the head, where a Referer could go
    session_data = json.dumps(dict(team.session.items()))
    assert "metadata" not in session_data
    assert "Prompt injection" in team.get("/desk/reports/").content.decode()  # no search=1: no search
    assert team.get("/desk/reports/?q=metadata")["Location"] == "/desk/reports/"


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
    other = signed_in(bob)
    response = other.post("/desk/reports/", {"q": "secret"})
    assert "Secret llm-d thing" not in other.get(response["Location"]).content.decode()
