"""Other databases' ids of a vulnerability: CVE, GitHub Security Advisories and the OSV databases.

An advisory lists them as aliases (the same vulnerability under another id), related (another
vulnerability closely linked to it) or upstream (the vulnerability in a dependency it comes from),
the three kinds OSV 1.7 names. Each format then says where such an id lives on the web.
"""

from __future__ import annotations

import re

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
# GitHub's advisory ids: three groups of four from an alphabet without look-alike characters.
GHSA_ID = re.compile(r"^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$")
# An OSV id: a database prefix, a dash, then the database's own part (OSV schema, "id").
DATABASE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9._:-]+$")
MAX_ID = 100
# Databases osv.dev serves under https://osv.dev/vulnerability/<id> (its home databases).
OSV_DEV_PREFIXES = frozenset({"PYSEC", "GO", "RUSTSEC", "MAL", "HSEC", "EEF", "PSF", "JLSEC", "CURL", "OSV"})
SYSTEM_NAMES = {"CVE": "CVE", "GHSA": "GitHub Security Advisories"}


def id_problem(value: str) -> str | None:
    """Why ``value`` is not a vulnerability id another database would know, or None."""
    prefix = value.split("-", 1)[0]
    if len(value) > MAX_ID:
        return f"{value[:20]!r}… is longer than {MAX_ID} characters"
    if prefix == "CVE" and not CVE_ID.match(value):
        return f"{value!r} is not a CVE id (CVE-YYYY-NNNN)"
    if prefix == "GHSA" and not GHSA_ID.match(value):
        return f"{value!r} is not a GitHub advisory id (GHSA-xxxx-xxxx-xxxx)"
    if not DATABASE_ID.match(value):
        return f"{value!r} is not an advisory id (a database prefix, a dash, its id: PYSEC-2024-12)"
    return None


def is_cve(value: str) -> bool:
    return bool(CVE_ID.match(value))


def database_name(value: str) -> str:
    """The database an id belongs to, as CSAF's ``ids[].system_name`` names it."""
    prefix = value.split("-", 1)[0]
    return SYSTEM_NAMES.get(prefix, prefix)


def id_url(value: str) -> str:
    """Where the database publishes the id, or "" when vulndesk does not know where."""
    prefix = value.split("-", 1)[0]
    if is_cve(value):
        return f"https://www.cve.org/CVERecord?id={value}"
    if prefix == "GHSA":
        return f"https://github.com/advisories/{value}"
    if prefix in OSV_DEV_PREFIXES:
        return f"https://osv.dev/vulnerability/{value}"
    return ""
