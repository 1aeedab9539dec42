"""CSAF 2.0 (OASIS): the security advisory profile and the VEX profile.

The product tree is vendor → package → versions: every version the project released, the versions
the range itself names, and one ``product_version_range`` product carrying the ``vers`` range, so
the advisory states the whole range even for versions nobody recorded. Product ids are the package
URL of each version (and of the range), stable from one revision to the next.

CSAF 2.0 has no slot for a CVSS v4.0 score (``scores[]`` holds ``cvss_v2`` and ``cvss_v3`` only);
the v4.0 vector and score are written as a vulnerability note instead.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

from packageurl import PackageURL

from vulndesk.advisories.aliases import database_name, is_cve
from vulndesk.advisories.document import AdvisoryDocument, Credit
from vulndesk.advisories.exports.context import ExportContext, generator_version, timestamp
from vulndesk.advisories.exports.cvss_json import cvss31_json
from vulndesk.advisories.exports.cwe import cwe_name
from vulndesk.advisories.exports.ranges import AffectedPackage, VersionStatus, affected_packages

SECURITY_ADVISORY = "csaf_security_advisory"
VEX = "csaf_vex"
_TLP_URL = "https://www.first.org/tlp/"
# CSAF 2.0 §5.1: every run of characters outside these becomes one "_" in the file name.
_FILE_NAME_DISALLOWED = re.compile(r"[^+\-a-z0-9]+")


def tracking_id(identifier: str, category: str) -> str:
    """The document's ``/document/tracking/id``: the advisory's own id, "-VEX" for its VEX profile."""
    return identifier if category == SECURITY_ADVISORY else f"{identifier}-VEX"


def canonical_file_name(document_tracking_id: str) -> str:
    """CSAF 2.0 §5.1: the lower-cased tracking id, each run of other characters one "_", ".json"."""
    return _FILE_NAME_DISALLOWED.sub("_", document_tracking_id.lower()) + ".json"


def distribution_path(identifier: str, published_at: dt.datetime, category: str) -> str:
    """Where the document lies in its project's distribution folder: ``<YYYY>/<file name>``, the year
    of its initial release (CSAF 2.0 §7.1.11, requirement 11)."""
    year = published_at.astimezone(dt.UTC).year
    return f"{year}/{canonical_file_name(tracking_id(identifier, category))}"


def distribution_url(base_url: str, project_slug: str) -> str:
    """The project's CSAF distribution folder (CSAF 2.0 §7.1.11), without a trailing slash."""
    return f"{base_url}/p/{quote(project_slug)}/csaf"


def canonical_url(document: AdvisoryDocument, context: ExportContext, category: str) -> str:
    """The document's one canonical address, its "self" reference (CSAF 2.0 §3.2.1.11, optional
    test 6.2.11): in the distribution folder, under its canonical file name."""
    path = distribution_path(document.identifier, document.published_at, category)
    return f"{distribution_url(context.base_url, document.project_slug)}/{path}"


def export(document: AdvisoryDocument, context: ExportContext) -> dict[str, Any]:
    return _csaf(document, context, SECURITY_ADVISORY)


def export_vex(document: AdvisoryDocument, context: ExportContext) -> dict[str, Any]:
    return _csaf(document, context, VEX)


def _csaf(document: AdvisoryDocument, context: ExportContext, category: str) -> dict[str, Any]:
    packages = affected_packages(document.affected, context)
    return {
        "document": _document(document, context, category, packages),
        "product_tree": {"branches": [_vendor_branch(document, packages)]},
        "vulnerabilities": [_vulnerability(document, context, packages)],
    }


# --- document ---------------------------------------------------------------------------------


def _document(
    document: AdvisoryDocument, context: ExportContext, category: str, packages: tuple[AffectedPackage, ...]
) -> dict[str, Any]:
    notes = [{"category": "summary", "title": "Summary", "text": document.summary}]
    if document.withdrawn_at is not None:
        reason = document.withdrawn_reason.strip() or "The publisher withdrew this advisory."
        notes.append({"category": "general", "title": "Withdrawn", "text": reason})
    found: dict[str, Any] = {
        "category": category,
        "csaf_version": "2.0",
        "title": document.title if category == SECURITY_ADVISORY else f"{document.title} (VEX)",
        "lang": "en",
        "distribution": {"tlp": {"label": "WHITE", "url": _TLP_URL}},  # published: no restriction
        "publisher": {"category": "vendor", "name": document.vendor, "namespace": context.base_url},
        "notes": notes,
        "references": [
            {
                "category": "self",
                "summary": "This document",
                "url": canonical_url(document, context, category),
            },
            {"category": "external", "summary": "The advisory", "url": context.advisory_url(document)},
        ],
        "tracking": _tracking(document, category, packages),
    }
    if document.severity is not None:
        found["aggregate_severity"] = {"text": document.severity.value.capitalize()}
    return found


def _tracking(
    document: AdvisoryDocument, category: str, packages: tuple[AffectedPackage, ...]
) -> dict[str, Any]:
    # "interim" (CSAF 2.0 §3.2.1.12.6): more is expected, here the fix of a package without one yet.
    awaiting_fix = document.withdrawn_at is None and any(not p.fixed_versions for p in packages)
    return {
        "id": tracking_id(document.identifier, category),
        "status": "interim" if awaiting_fix else "final",
        "version": str(document.revision),
        "revision_history": _revision_history(document),
        "initial_release_date": timestamp(document.published_at),
        "current_release_date": timestamp(document.modified_at),
        "generator": {
            "date": timestamp(document.modified_at),
            "engine": {"name": "vulndesk", "version": generator_version()},
        },
    }


def _revision_history(document: AdvisoryDocument) -> list[dict[str, str]]:
    """Every revision 1..current (mandatory test 6.1.21 wants no gap); the document's own history
    where it has one."""
    known = {number: (date, summary) for number, date, summary in document.revision_history}
    history = []
    for number in range(1, document.revision + 1):
        default = (document.published_at if number == 1 else document.modified_at, "")
        date, summary = known.get(number, default)
        summary = summary or ("Initial public release." if number == 1 else f"Revision {number}.")
        history.append({"number": str(number), "date": timestamp(date), "summary": summary})
    return history


# --- product tree -----------------------------------------------------------------------------


def range_product_id(package: AffectedPackage) -> str:
    return f"{package.package} {package.version_range}"


def version_product_id(package: AffectedPackage, version: str) -> str:
    purl = package.purl
    return PackageURL(
        purl.type, purl.namespace, purl.name, version, purl.qualifiers, purl.subpath
    ).to_string()


def _vendor_branch(document: AdvisoryDocument, packages: tuple[AffectedPackage, ...]) -> dict[str, Any]:
    return {
        "category": "vendor",
        "name": document.vendor,
        "branches": [
            {"category": "product_name", "name": package.name, "branches": _version_branches(package)}
            for package in packages
        ],
    }


def _version_branches(package: AffectedPackage) -> list[dict[str, Any]]:
    version_range = str(package.version_range)
    branches = [_product_branch("product_version_range", version_range, package, range_product_id(package))]
    for entry in package.versions:
        product_id = version_product_id(package, entry.version)
        branches.append(_product_branch("product_version", entry.version, package, product_id))
    return branches


def _product_branch(category: str, name: str, package: AffectedPackage, product_id: str) -> dict[str, Any]:
    purl = package.package if category == "product_version_range" else product_id
    return {
        "category": category,
        "name": name,
        "product": {
            "name": f"{package.name} {name}",
            "product_id": product_id,
            "product_identification_helper": {"purl": purl},
        },
    }


# --- the vulnerability ------------------------------------------------------------------------


def _vulnerability(
    document: AdvisoryDocument, context: ExportContext, packages: tuple[AffectedPackage, ...]
) -> dict[str, Any]:
    affected = [pid for p in packages for pid in _affected_ids(p)]
    vulnerability: dict[str, Any] = {
        "title": document.title,
        "ids": _ids_of(document),
        "release_date": timestamp(document.published_at),
        "notes": _vulnerability_notes(document),
        "product_status": _product_status(packages),
        "remediations": _remediations(document, context, packages),
        "references": [
            {"category": "external", "summary": reference.type.value.title(), "url": reference.url}
            for reference in document.references
        ]
        or [{"category": "external", "summary": "The advisory", "url": context.advisory_url(document)}],
    }
    if cve := _first_cve(document):
        vulnerability["cve"] = cve
    if document.cwes:
        # CSAF 2.0 holds one CWE per vulnerability; the others are named in a note.
        vulnerability["cwe"] = {"id": document.cwes[0], "name": cwe_name(document.cwes[0])}
    if document.cvss31_vector:
        vulnerability["scores"] = [{"cvss_v3": cvss31_json(document.cvss31_vector), "products": affected}]
    if not_affected := [pid for p in packages for pid in _ids(p, VersionStatus.NOT_AFFECTED)]:
        vulnerability["flags"] = [{"label": "vulnerable_code_not_present", "product_ids": not_affected}]
    if document.severity is not None and not document.has_cvss_vector:
        # No score to carry it: the team's word is the impact (CSAF 2.0 §3.2.3.14 threats).
        word = document.severity.value.capitalize()
        details = f"{word} severity, as the vendor rates it without a CVSS score."
        vulnerability["threats"] = [{"category": "impact", "details": details, "product_ids": affected}]
    if document.credits:
        vulnerability["acknowledgments"] = [_acknowledgment(credit) for credit in document.credits]
    return vulnerability


def _first_cve(document: AdvisoryDocument) -> str:
    return next((alias for alias in document.all_aliases if is_cve(alias)), "")


def _ids_of(document: AdvisoryDocument) -> list[dict[str, str]]:
    """The advisory's own id, then every alias but the CVE id ``cve`` already holds."""
    own = {"system_name": f"{document.vendor} advisories", "text": document.identifier}
    cve = _first_cve(document)
    others = [a for a in document.all_aliases if a != cve]
    return [own, *({"system_name": database_name(alias), "text": alias} for alias in others)]


def _acknowledgment(credit: Credit) -> dict[str, Any]:
    found: dict[str, Any] = {"names": [credit.name], "summary": credit.type.value.replace("_", " ")}
    if credit.contact:
        found["urls"] = list(credit.contact)
    return found


def _vulnerability_notes(document: AdvisoryDocument) -> list[dict[str, str]]:
    notes = [{"category": "summary", "title": "Summary", "text": document.summary}]
    if document.details.strip():
        notes.append({"category": "description", "title": "Details", "text": document.details.strip()})
    if len(document.cwes) > 1:
        named = ", ".join(f"{cwe} {cwe_name(cwe)}" for cwe in document.cwes[1:])
        notes.append({"category": "other", "title": "Further weaknesses", "text": named})
    if document.cvss40_vector:
        score = f" (CVSS-B {document.cvss40_score}" if document.cvss40_score is not None else ""
        if score and document.cvss40_full_score is not None:
            score += f"; {document.cvss40_nomenclature} {document.cvss40_full_score}"
        score += ")" if score else ""
        text = f"{document.cvss40_vector}{score}. CSAF 2.0 has no field for CVSS v4.0 scores."
        notes.append({"category": "other", "title": "CVSS v4.0", "text": text})
    return notes


def _ids(package: AffectedPackage, status: VersionStatus) -> list[str]:
    return [version_product_id(package, version) for version in package.with_status(status)]


def _affected_ids(package: AffectedPackage) -> list[str]:
    return [range_product_id(package), *_ids(package, VersionStatus.AFFECTED)]


def _product_status(packages: tuple[AffectedPackage, ...]) -> dict[str, list[str]]:
    status = {
        "known_affected": [pid for p in packages for pid in _affected_ids(p)],
        "fixed": [pid for p in packages for pid in _ids(p, VersionStatus.FIXED)],
        "known_not_affected": [pid for p in packages for pid in _ids(p, VersionStatus.NOT_AFFECTED)],
    }
    return {name: ids for name, ids in status.items() if ids}


def _remediations(
    document: AdvisoryDocument, context: ExportContext, packages: tuple[AffectedPackage, ...]
) -> list[dict[str, Any]]:
    remediations: list[dict[str, Any]] = []
    for package in packages:
        if package.fixed_versions:
            fixed = ", ".join(package.fixed_versions)
            remediations.append(
                {
                    "category": "vendor_fix",
                    "details": f"Upgrade {package.name} to {fixed}, or a later release of the same line.",
                    "product_ids": _affected_ids(package),
                    "url": context.advisory_url(document),
                }
            )
        else:
            remediations.append(
                {
                    "category": "none_available",
                    "details": f"No fixed release of {package.name} is available yet.",
                    "product_ids": _affected_ids(package),
                }
            )
    if document.mitigations.strip():
        affected = [pid for p in packages for pid in _affected_ids(p)]
        remediations.append(
            {"category": "mitigation", "details": document.mitigations.strip(), "product_ids": affected}
        )
    return remediations
