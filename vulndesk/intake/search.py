"""Searching reports whose text is sealed: a blind keyword index.

Each distinct word of a report's title and text is stored only as a keyed hash (HMAC-SHA256 with
a key derived from the secret key, cut to 64 bits). A search hashes its words the same way and
looks them up in an ordinary B-tree index, so it stays fast at any number of reports, and the
database holds no word in clear.

The trade-off, written down in docs/ARCHITECTURE.md: someone with the database alone learns which
reports share a word and how often each (unknown) word occurs, not what the words are; someone
who also holds the secret key can test guesses. Substring and fuzzy matching are not possible:
search matches whole words (case and accents folded).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import cache

from django.conf import settings
from django.db.models import Count, QuerySet

from vulndesk.intake.models import Report, ReportSearchTerm

_WORD = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*", re.UNICODE)
MIN_WORD, MAX_WORD = 3, 64
MAX_TERMS_PER_REPORT = 5_000
MAX_QUERY_TERMS = 8


@cache
def _index_key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"vulndesk search index v1", hashlib.sha256).digest()


def words(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    # ASCII text has no accents to strip: skip the walk over every character (most reports).
    plain = folded if folded.isascii() else "".join(c for c in folded if not unicodedata.combining(c))
    found = {w for w in _WORD.findall(plain) if MIN_WORD <= len(w) <= MAX_WORD}
    # Dotted and hyphenated words ("CVE-2026-1234", "foo.py") are also findable by their parts.
    found |= {part for w in list(found) for part in re.split(r"[-.]", w) if len(part) >= MIN_WORD}
    return found


def term(word: str) -> str:
    return hmac.new(_index_key(), word.encode(), hashlib.sha256).hexdigest()[:16]


def index_report(report: Report, texts: list[str]) -> None:
    """(Re)build a report's terms; call inside the transaction that changes its text."""
    terms = sorted({term(w) for text in texts for w in words(text)})[:MAX_TERMS_PER_REPORT]
    ReportSearchTerm.objects.filter(report=report).delete()
    ReportSearchTerm.objects.bulk_create([ReportSearchTerm(report=report, term=t) for t in terms])


def search(reports: QuerySet[Report], query: str) -> QuerySet[Report]:
    """The reports among ``reports`` containing every word of ``query``."""
    wanted = sorted({term(w) for w in words(query)})[:MAX_QUERY_TERMS]
    if not wanted:
        return reports.none()
    matching = (
        ReportSearchTerm.objects.filter(term__in=wanted)
        .values("report_id")
        .annotate(hits=Count("term"))
        .filter(hits=len(wanted))
        .values("report_id")
    )
    return reports.filter(pk__in=matching)
