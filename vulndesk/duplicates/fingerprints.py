"""What a report is about, taken from its text: the words a lexical ranker counts, and the
technical marks (file paths, function names, endpoints, CWE, versions) two reports of the same
flaw tend to share even when worded apart.

Pure functions, no database: the worker (``duplicates.tasks``) and the benchmark
(``bench/duplicates_bench.py``) call the same code. Everything here is derived from report text,
so the caller seals it at rest (``duplicates.models.ReportProfile``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Bumped when extraction changes: stored profiles of an older version are rebuilt on next use.
PROFILE_VERSION = 3

_WORD = re.compile(r"[a-z0-9]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::|->)[A-Za-z_][A-Za-z0-9_]*)*")
_PATH = re.compile(
    r"(?<![\w/.])(?:[\w-]+/)*[\w-]+\.(?:py|pyx|c|cc|cpp|h|hpp|js|mjs|ts|tsx|go|rs|java|rb|php|"
    r"cs|kt|swift|sh|pl|lua|html|jinja2?|ya?ml|toml|json|xml|conf|ini|sql)\b"
)
_ENDPOINT = re.compile(r"(?<![\w.])/(?:[\w.{}:-]+/)*[\w.{}:-]+")
_PARAMETER = re.compile(r"[?&]([A-Za-z_][\w-]{1,40})=")
_CWE = re.compile(r"\bCWE[- ]?(\d{1,4})\b", re.IGNORECASE)
_VERSION = re.compile(r"(?<![\w.])v?(\d+\.\d+(?:\.\d+){0,2})(?![\w.]*\d)")
_QUOTED = re.compile(r"[`'\"]([^`'\"\s]{3,80})[`'\"]")
# The release that fixed a flaw, as advisories and release notes name it: "before 2.2.9", "prior to
# v2.0.4", "fixed in 1.15.4, 2.0.3 and 2.1.2", "Pillow 8.1.2 fixes ...", "versions 2.5.3 and 2.6.3
# include a fix". Two reports naming one fixed release are more likely one flaw.
_RELEASE = r"v?\d+\.\d+(?:\.\d+){0,2}"
_RELEASES = rf"{_RELEASE}(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|,\s*and\s+)(?:version\s+)?{_RELEASE})*"
_FIXED_AFTER = re.compile(
    r"(?:before|prior to|<|fixed in|patched in|released in|upgrade to)\s+"
    rf"(?:(?:the\s+)?versions?\s+)?({_RELEASES})",
    re.IGNORECASE,
)
_FIXED_BEFORE = re.compile(
    rf"({_RELEASES})\s+(?:fix|fixes|include|includes|resolve|resolves|improve|improves|ship|ships|"
    r"update|updates|contain|contains|add|adds|enforce|enforces|integrate|integrates)\b",
    re.IGNORECASE,
)

# Words of any English report that say nothing about which flaw it is.
_STOPWORDS = frozenset(
    (  # noqa: SIM905 - a hundred quoted words would not fit the page
        "the a an and or of to in on for by with is are was were be been this that it its as at from "
        "which can could would may might when if than then there these those has have had not no but "
        "into via such also other any all some so do does did using use used user users allows allow "
        "allowed attacker attackers vulnerability vulnerabilities issue issues version versions fix "
        "fixed fixes include includes including before after through prior affected "
        # The words of a release note ("Archivy 1.6.2 improves ..."), not of the flaw.
        "improve improves resolve resolves contain contains security several following discovered "
        "vulnerable "
    ).split()
)
# The same class of flaw in the words reporters and advisories use for it: a release note says
# "XSS" or "OOB read" where the advisory it repeats says "Cross Site Scripting" or "out-of-bounds
# read". Each is folded into one word (so the words match) and kept as a mark (so the class counts).
_FLAW_NAMES: tuple[tuple[str, str, str], ...] = (  # the word, how a reason names it, its names
    ("xss", "XSS", r"cross[- ]?site[- ]scripting|\bxss\b"),
    ("csrf", "CSRF", r"cross[- ]?site[- ]request[- ]forgery|\bcsrf\b|\bxsrf\b"),
    ("ssrf", "SSRF", r"server[- ]side[- ]request[- ]forgery|\bssrf\b"),
    # An entity expansion ("billion laughs") is the same family of XML parser flaw as XXE.
    (
        "xxe",
        "XXE",
        r"xml[- ](?:external[- ])?entit(?:y|ies)|external[- ]entit(?:y|ies)|\bxxe\b|billion[- ]?laughs?",
    ),
    ("smuggling", "request smuggling", r"request[- ](?:smuggling|splitting)|http[- ]desync"),
    (
        "tempfile",
        "insecure temporary file",
        r"(?:insecure|predictable)[- ](?:use[- ]of[- ])?temp(?:orary)?[- ]files?|symlink[- ]attack",
    ),
    ("takeover", "account takeover", r"account[- ](?:takeover|hijack(?:ing)?)"),
    ("oob", "out-of-bounds", r"out[- ]of[- ]bounds?|outside (?:of )?(?:the )?bounds?|\boob\b"),
    ("dos", "denial of service", r"denial[- ]of[- ]service|\bdos\b"),
    ("rce", "remote code execution", r"remote[- ]code[- ]execution|\brce\b"),
    ("uaf", "use after free", r"use[- ]after[- ]free|\buaf\b"),
    ("sqli", "SQL injection", r"sql[- ]injection|\bsqli\b"),
    ("traversal", "path traversal", r"(?:path|directory)[- ]traversal"),
    ("redirect", "open redirect", r"open[- ]redirect(?:ion)?"),
    ("intoverflow", "integer overflow", r"integer[- ]overflow"),
    ("bufoverflow", "buffer overflow", r"(?:buffer|heap|stack)[- ](?:buffer[- ])?overflow"),
    ("checkfail", "CHECK-fail", r"\bcheck\b['`\"]?[- ]?fail"),
    ("divzero", "division by zero", r"divi(?:sion|de)[- ]by[- ](?:zero|0)\b"),
    ("infiniteloop", "infinite loop", r"infinite[- ]loop"),
    ("typeconfusion", "type confusion", r"type[- ]confusion"),
    ("timing", "timing attack", r"timing[- ]attack|timing[- ]side[- ]channel"),
    (
        "nullderef",
        "null dereference",
        r"null[- ]pointer[- ]dereference|null[- ]dereference|reference binding to null",
    ),
)
_FLAWS = tuple((token, re.compile(pattern, re.IGNORECASE)) for token, _, pattern in _FLAW_NAMES)
FLAW_LABELS = {token: label for token, label, _ in _FLAW_NAMES}
# A function name worth matching on has some shape: CamelCase, snake_case, or dotted.
_SHAPED = re.compile(r"[a-z][A-Z]|[A-Z][a-z]+[A-Z]|_|\.|::|->")
_NOT_NAMES = frozenset({"e.g", "i.e", "etc"})
MAX_TEXT = 50_000
MIN_NAME, MIN_STEM = 4, 5


@dataclass
class Profile:
    """A report's words (with counts) and its technical marks, by kind."""

    terms: Counter[str] = field(default_factory=Counter)
    marks: dict[str, set[str]] = field(default_factory=dict)
    fixed_in: set[str] = field(default_factory=set)

    @property
    def length(self) -> int:
        return sum(self.terms.values())

    def as_json(self) -> dict[str, object]:
        return {
            "v": PROFILE_VERSION,
            "terms": dict(self.terms),
            "marks": {kind: sorted(values) for kind, values in self.marks.items()},
            "fixed_in": sorted(self.fixed_in),
        }

    @classmethod
    def from_json(cls, value: dict[str, object]) -> Profile:
        terms = value.get("terms", {})
        marks = value.get("marks", {})
        fixed_in = value.get("fixed_in", [])
        if not isinstance(terms, dict) or not isinstance(marks, dict) or not isinstance(fixed_in, list):
            raise TypeError("not a stored profile")
        return cls(Counter(terms), {kind: set(values) for kind, values in marks.items()}, set(fixed_in))


def words(text: str) -> list[str]:
    """Lower-cased words, identifiers also split at ``_`` and case changes, stop words dropped,
    each flaw class named in one word."""
    split = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", fold_flaw_names(text))
    return [_stem(w) for w in _WORD.findall(split.lower()) if w not in _STOPWORDS and len(w) > 1]


def fold_flaw_names(text: str) -> str:
    for token, pattern in _FLAWS:
        text = pattern.sub(f" {token} ", text)
    return text


def _flaws(text: str) -> set[str]:
    return {token for token, pattern in _FLAWS if pattern.search(text)}


def _stem(word: str) -> str:
    # A light plural fold ("requests" / "request"); stronger stemmers cost more than they gain here.
    if len(word) >= MIN_STEM and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def profile(title: str, text: str) -> Profile:
    """The profile of a report; the title counts twice, as reporters put the gist there."""
    body = f"{title}\n{title}\n{text}"[:MAX_TEXT]
    said = f"{title}\n{text}"[:MAX_TEXT]
    return Profile(Counter(words(body)), marks(said), fixed_releases(said))


def fixed_releases(text: str) -> set[str]:
    """The releases the text says fixed the flaw ("before 2.2.9", "8.1.2 fixes"), not the ones it
    says are affected ("in 2.2.8", "through 1.3.1")."""
    found = set()
    for pattern in (_FIXED_AFTER, _FIXED_BEFORE):
        for listed in pattern.findall(text):
            found |= {_version(v.lstrip("vV")) for v in re.findall(_RELEASE, listed)}
    return found


def marks(text: str) -> dict[str, set[str]]:
    found = {
        "path": {_path_tail(p) for p in _PATH.findall(text)},
        "function": _function_names(text),
        "endpoint": {e.lower() for e in _ENDPOINT.findall(text) if _is_endpoint(e)},
        "parameter": {p.lower() for p in _PARAMETER.findall(text)},
        "cwe": {f"CWE-{int(n)}" for n in _CWE.findall(text)},
        "version": {_version(v) for v in _VERSION.findall(text)},
        "flaw": _flaws(text),
    }
    return {kind: values for kind, values in found.items() if values}


def _version(version: str) -> str:
    # "0.8" and "0.8.0" are one release.
    while version.endswith(".0") and version.count(".") > 1:
        version = version[:-2]
    return version


def _path_tail(path: str) -> str:
    # Two reports name the same file from different roots ("src/x/y.py", "x/y.py"): the last two
    # parts are what they share.
    return "/".join(path.lower().split("/")[-2:])


def _is_endpoint(candidate: str) -> bool:
    # An endpoint has at least one path segment with a letter and is not a file path or a date.
    return (
        candidate.count("/") >= 1
        and any(c.isalpha() for c in candidate)
        and not _PATH.fullmatch(candidate.lstrip("/"))
    )


def _function_names(text: str) -> set[str]:
    # A file name ("export.py") is a path, not a function: it is matched as a path.
    names = {
        n
        for n in _IDENTIFIER.findall(text)
        if _SHAPED.search(n) and len(n) >= MIN_NAME and not _PATH.fullmatch(n)
    }
    names |= {q for q in _QUOTED.findall(text) if _IDENTIFIER.fullmatch(q)}
    # The last part of a dotted name is the function itself: "tf.raw_ops.Dequantize" and
    # "Dequantize" are the same function.
    names |= {re.split(r"\.|::|->", n)[-1] for n in list(names)}
    return {n.lower() for n in names if len(n) >= MIN_NAME and n.lower() not in _NOT_NAMES}
