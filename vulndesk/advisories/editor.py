"""The advisory editor's form: plain fields, and credits, references and affected packages as
repeatable rows (``credits-0-name``, ``credits-0-type``...). Lists of words (CWE ids, aliases,
related and upstream ids, a package's affected functions, a credit's contacts) are typed in one
field each, separated by spaces.

Without JavaScript the editor shows a few empty rows and an "add another" button that posts the
form back to be drawn again with one more row, nothing typed lost and nothing saved; with
JavaScript (``static/vulndesk/rows.js``) the same button adds the row in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vulndesk.advisories.content import EMAIL, MAX_ITEMS, AdvisoryContent

EMPTY_ROWS = 2  # empty rows offered under the filled ones
MAX_ROWS = MAX_ITEMS + 10  # rows read from a post; content.py refuses more than MAX_ITEMS filled ones
TEXT_FIELDS = (
    "title",
    "summary",
    "details",
    "cve_id",
    "cvss31_vector",
    "cvss40_vector",
    "severity",
    "cwes",
    "aliases",
    "related",
    "upstream",
    "mitigations",
    "change_summary",
)


@dataclass(frozen=True)
class RowList:
    """One repeatable list: its form prefix, its columns, and the columns that make a row filled."""

    name: str  # "credits": the form prefix and the AdvisoryContent field
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    defaults: Mapping[str, str] = field(default_factory=dict)

    def is_filled(self, row: Mapping[str, str]) -> bool:
        return any(row.get(column, "").strip() for column in self.key_columns)

    def empty_row(self) -> dict[str, str]:
        return {column: self.defaults.get(column, "") for column in self.columns}


CREDITS = RowList("credits", ("name", "type", "contact"), ("name",), {"type": "finder"})
REFERENCES = RowList("references", ("url", "type"), ("url",), {"type": "WEB"})
AFFECTED = RowList("affected", ("package", "affected", "functions"), ("package", "affected"))
ROW_LISTS = (AFFECTED, CREDITS, REFERENCES)


@dataclass
class EditorForm:
    """What the editor shows: the text of each field and every row, filled or not."""

    fields: dict[str, str]
    rows: dict[str, list[dict[str, str]]]

    def with_another_row(self, list_name: str) -> EditorForm:
        rows = {name: list(entries) for name, entries in self.rows.items()}
        row_list = next((r for r in ROW_LISTS if r.name == list_name), None)
        if row_list is not None and len(rows[list_name]) < MAX_ROWS:
            rows[list_name].append(row_list.empty_row())
        return EditorForm(dict(self.fields), rows)


def form_from_post(post: Mapping[str, str]) -> EditorForm:
    """The form as it was posted, empty rows included, so it can be drawn again as it was."""
    fields = {name: post.get(name, "") for name in TEXT_FIELDS}
    return EditorForm(fields, {r.name: _posted_rows(post, r) for r in ROW_LISTS})


def _posted_rows(post: Mapping[str, str], row_list: RowList) -> list[dict[str, str]]:
    pattern = re.compile(rf"^{row_list.name}-(\d{{1,3}})-({'|'.join(row_list.columns)})$")
    by_index: dict[int, dict[str, str]] = {}
    for key in post:
        found = pattern.match(key)
        if found and int(found.group(1)) < MAX_ROWS:
            by_index.setdefault(int(found.group(1)), row_list.empty_row())[found.group(2)] = post[key]
    return [by_index[index] for index in sorted(by_index)]


def content_from_form(form: EditorForm) -> AdvisoryContent:
    """The content of the filled rows; content.py checks each field and names what is wrong."""
    text = {name: value.strip() for name, value in form.fields.items()}
    filled = {r.name: [_stripped(row) for row in form.rows[r.name] if r.is_filled(row)] for r in ROW_LISTS}
    return AdvisoryContent(
        title=text["title"],
        summary=text["summary"],
        details=text["details"],
        affected=[_with_words(row, "functions", _words(row["functions"])) for row in filled["affected"]],
        cvss31_vector=text["cvss31_vector"],
        cvss40_vector=text["cvss40_vector"],
        severity=text["severity"].lower(),
        cwes=_words(text["cwes"]),
        credits=[_with_words(row, "contact", _contacts(row["contact"])) for row in filled["credits"]],
        mitigations=text["mitigations"],
        references=[{**row, "type": row["type"].upper() or "WEB"} for row in filled["references"]],
        aliases=_words(text["aliases"]),
        related=_words(text["related"]),
        upstream=_words(text["upstream"]),
    )


def _stripped(row: Mapping[str, str]) -> dict[str, str]:
    return {column: value.strip() for column, value in row.items()}


def _words(text: str) -> list[str]:
    """Words separated by spaces or commas, each once, in the order typed."""
    return list(dict.fromkeys(text.replace(",", " ").split()))


def _contacts(text: str) -> list[str]:
    """A bare email address is written as the mailto: address OSV's ``contact`` expects."""
    return [f"mailto:{word}" if EMAIL.match(word) else word for word in _words(text)]


def _with_words(row: Mapping[str, str], column: str, words: list[str]) -> dict[str, Any]:
    """The row as content stores it: the list when there is one, no empty column."""
    stored: dict[str, Any] = {name: value for name, value in row.items() if name != column}
    if words:
        stored[column] = words
    return stored


def _as_text(entry: Mapping[str, Any], column: str) -> dict[str, str]:
    """A stored row as the editor shows it: its list of words in one field."""
    shown = {name: str(value) for name, value in entry.items() if name != column}
    words = [w.removeprefix("mailto:") for w in entry.get(column, [])]
    return {**shown, column: " ".join(words)}


def form_from_content(content: AdvisoryContent, cve_id: str) -> EditorForm:
    """The saved draft, with empty rows to add to under each list."""
    fields = {
        "title": content.title,
        "summary": content.summary,
        "details": content.details,
        "cve_id": cve_id,
        "cvss31_vector": content.cvss31_vector,
        "cvss40_vector": content.cvss40_vector,
        "severity": content.severity,
        "cwes": " ".join(content.cwes),
        "aliases": " ".join(content.aliases),
        "related": " ".join(content.related),
        "upstream": " ".join(content.upstream),
        "mitigations": content.mitigations,
        "change_summary": "",
    }
    saved: dict[str, list[dict[str, str]]] = {
        "affected": [_as_text(entry, "functions") for entry in content.affected],
        "credits": [_as_text(entry, "contact") for entry in content.credits],
        "references": content.references,
    }
    rows = {
        r.name: [{**r.empty_row(), **entry} for entry in saved[r.name]]
        + [r.empty_row() for _ in range(EMPTY_ROWS)]
        for r in ROW_LISTS
    }
    return EditorForm(fields, rows)
