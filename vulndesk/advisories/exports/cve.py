"""CVE JSON 5.1: the CNA container a CNA submits to CVE Services (``containers.cna`` of a record).

It is what ``cve publish --json-file`` of cvelib takes; the CVE id itself travels in the request,
not in the container. ``providerMetadata.orgId`` must be the CNA's own organization UUID from CVE
Services: vulndesk cannot know it, so it writes ``PLACEHOLDER_ORG_ID`` and the CNA replaces it (or
lets cvelib fill it in) before submitting. A withdrawn advisory exports as a rejected container.
"""

from __future__ import annotations

from typing import Any

from vulndesk.advisories.aliases import id_url, is_cve
from vulndesk.advisories.document import AdvisoryDocument, ReferenceType
from vulndesk.advisories.exports.context import ExportContext, generator_version, timestamp
from vulndesk.advisories.exports.cvss_json import cvss31_json, cvss40_cve_json
from vulndesk.advisories.exports.cwe import cwe_name
from vulndesk.advisories.exports.ranges import AffectedPackage, Span, affected_packages

PLACEHOLDER_ORG_ID = "00000000-0000-4000-8000-000000000000"  # replace with the CNA's orgId
_LANG = "en"
_DESCRIPTION_LIMIT = 4096  # CVE JSON 5.1: descriptions[].value
# OSV reference types -> CVE reference tags (CVE JSON 5.1, "reference.tags"); WEB has none.
_REFERENCE_TAGS = {
    ReferenceType.ADVISORY: "vendor-advisory",
    ReferenceType.ARTICLE: "technical-description",
    ReferenceType.DETECTION: "signature",
    ReferenceType.DISCUSSION: "mailing-list",
    ReferenceType.REPORT: "issue-tracking",
    ReferenceType.FIX: "patch",
    ReferenceType.PACKAGE: "product",
    ReferenceType.EVIDENCE: "exploit",
}
# Package URL type -> CVE versionType (free text in the schema; these are the customary names).
_VERSION_TYPES = {"pypi": "python", "maven": "maven", "npm": "semver", "cargo": "semver", "golang": "semver"}
_COLLECTIONS = {
    "cargo": "https://crates.io",
    "composer": "https://packagist.org",
    "gem": "https://rubygems.org",
    "golang": "https://golang.org/pkg",
    "maven": "https://repo.maven.apache.org/maven2",
    "npm": "https://registry.npmjs.org",
    "nuget": "https://nuget.org/packages",
    "pypi": "https://pypi.python.org",
}


def export(document: AdvisoryDocument, context: ExportContext) -> dict[str, Any]:
    if document.withdrawn_at is not None:
        return _rejected(document)
    container: dict[str, Any] = {
        "providerMetadata": _provider(document),
        "title": document.title[:256],
        "datePublic": timestamp(document.published_at),
        "descriptions": _descriptions(document),
        "affected": [_affected(document, p) for p in affected_packages(document.affected, context)],
        "references": _references(document, context),
        "source": {
            "advisory": document.identifier,
            "discovery": "EXTERNAL" if document.credits else "UNKNOWN",
        },
        "x_generator": {"engine": f"vulndesk {generator_version()}"},
    }
    if document.cwes:
        container["problemTypes"] = [{"descriptions": [_problem_type(cwe) for cwe in document.cwes]}]
    if metrics := _metrics(document):
        container["metrics"] = metrics
    if document.credits:
        container["credits"] = [
            {"lang": _LANG, "value": c.name, "type": c.type.value.replace("_", " ")} for c in document.credits
        ]
    if document.mitigations.strip():
        container["workarounds"] = [{"lang": _LANG, "value": document.mitigations.strip()}]
    return container


def _provider(document: AdvisoryDocument) -> dict[str, str]:
    return {"orgId": PLACEHOLDER_ORG_ID, "dateUpdated": timestamp(document.modified_at)}


def _rejected(document: AdvisoryDocument) -> dict[str, Any]:
    reason = document.withdrawn_reason.strip() or "This advisory was withdrawn by its publisher."
    return {
        "providerMetadata": _provider(document),
        "rejectedReasons": [{"lang": _LANG, "value": reason[:_DESCRIPTION_LIMIT]}],
        "x_generator": {"engine": f"vulndesk {generator_version()}"},
    }


def _descriptions(document: AdvisoryDocument) -> list[dict[str, Any]]:
    description: dict[str, Any] = {"lang": _LANG, "value": document.summary[:_DESCRIPTION_LIMIT]}
    if document.details.strip():
        description["supportingMedia"] = [
            {"type": "text/markdown", "base64": False, "value": document.details.strip()}
        ]
    return [description]


def _affected(document: AdvisoryDocument, package: AffectedPackage) -> dict[str, Any]:
    version_type = _VERSION_TYPES.get(package.purl.type, package.purl.type)
    entry: dict[str, Any] = {
        "vendor": document.vendor,
        "product": package.name,
        "packageName": package.name,
        "defaultStatus": "unaffected",  # every affected version is inside one of the listed spans
        "versions": [_version(span, version_type) for span in package.spans],
    }
    if collection := _COLLECTIONS.get(package.purl.type):
        entry["collectionURL"] = collection
    if package.functions:
        entry["programRoutines"] = [{"name": name} for name in dict.fromkeys(package.functions)]
    return entry


def _version(span: Span, version_type: str) -> dict[str, str]:
    """One span as a CVE version range: from ``version`` to ``lessThan`` (``*``: no fix yet)."""
    found = {"version": span.introduced, "status": "affected", "versionType": version_type}
    if span.fixed:
        found["lessThan"] = span.fixed
    elif span.last_affected and span.last_affected != span.introduced:
        found["lessThanOrEqual"] = span.last_affected
    elif not span.last_affected:
        found["lessThan"] = "*"
    return found


def _problem_type(cwe: str) -> dict[str, str]:
    return {"lang": _LANG, "type": "CWE", "cweId": cwe, "description": f"{cwe} {cwe_name(cwe)}"}


def _metrics(document: AdvisoryDocument) -> list[dict[str, Any]]:
    metrics: list[dict[str, Any]] = []
    general = [{"lang": _LANG, "value": "GENERAL"}]
    if document.cvss40_vector:
        metrics.append(
            {"format": "CVSS", "scenarios": general, "cvssV4_0": cvss40_cve_json(document.cvss40_vector)}
        )
    if document.cvss31_vector:
        metrics.append(
            {"format": "CVSS", "scenarios": general, "cvssV3_1": cvss31_json(document.cvss31_vector)}
        )
    if not metrics and document.severity is not None:
        # No vector: the team's word, as CNAs without a score write theirs (CVE JSON 5.1 "other").
        word = {"type": "Textual description of severity", "content": {"text": document.severity.value}}
        metrics.append({"scenarios": general, "other": word})
    return metrics


def _references(document: AdvisoryDocument, context: ExportContext) -> list[dict[str, Any]]:
    own_url = context.advisory_url(document)
    found: list[dict[str, Any]] = [{"url": own_url, "name": document.identifier, "tags": ["vendor-advisory"]}]
    for reference in document.references:
        if reference.url == own_url:
            continue
        entry: dict[str, Any] = {"url": reference.url}
        if tag := _REFERENCE_TAGS.get(reference.type):
            entry["tags"] = [tag]
        found.append(entry)
    return found + _alias_references(document, {entry["url"] for entry in found})


def _alias_references(document: AdvisoryDocument, known: set[str]) -> list[dict[str, Any]]:
    """The same vulnerability in another database: its advisory is a third party's. A CVE alias
    is this record itself, or its duplicate, and has no place here."""
    urls = {alias: id_url(alias) for alias in document.all_aliases if not is_cve(alias)}
    return [
        {"url": url, "name": alias, "tags": ["third-party-advisory"]}
        for alias, url in urls.items()
        if url and url not in known
    ]
