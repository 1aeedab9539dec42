"""OpenVEX 0.2.0 (https://github.com/openvex/spec): one statement per package and status.

Products are package URLs with a version: the versions the project released and those the range
names. A version before the first affected one is ``not_affected`` with the justification
``vulnerable_code_not_present``; one after a fix is ``fixed``.
"""

from __future__ import annotations

from typing import Any

from vulndesk.advisories.document import AdvisoryDocument
from vulndesk.advisories.exports.context import ExportContext, generator_version, timestamp
from vulndesk.advisories.exports.csaf import version_product_id
from vulndesk.advisories.exports.ranges import AffectedPackage, VersionStatus, affected_packages

CONTEXT = "https://openvex.dev/ns/v0.2.0"


def export(document: AdvisoryDocument, context: ExportContext) -> dict[str, Any]:
    issued = timestamp(document.modified_at)
    statements = [
        {"vulnerability": _vulnerability(document, context), "timestamp": issued, **statement}
        for package in affected_packages(document.affected, context)
        for statement in _statements(document, package)
    ]
    if document.withdrawn_at is not None:
        reason = document.withdrawn_reason.strip() or "The publisher withdrew this advisory."
        for statement in statements:
            statement["status_notes"] = f"Withdrawn: {reason}"
    return {
        "@context": CONTEXT,
        "@id": context.export_url(document, "openvex"),
        "author": document.vendor,
        "role": "Document Creator",
        "timestamp": issued,
        "last_updated": issued,
        "version": document.revision,
        "tooling": f"vulndesk {generator_version()}",
        "statements": statements,
    }


def _vulnerability(document: AdvisoryDocument, context: ExportContext) -> dict[str, Any]:
    name = document.identifier  # the advisory's own id for ever; a CVE id is an alias
    vulnerability: dict[str, Any] = {
        "@id": context.advisory_url(document),
        "name": name,
        "description": document.summary,
    }
    if aliases := list(document.all_aliases):
        vulnerability["aliases"] = aliases
    return vulnerability


def _statements(document: AdvisoryDocument, package: AffectedPackage) -> list[dict[str, Any]]:
    if not package.versions:
        # Nothing released and no bound named (a range like "*"): the package as a whole.
        products = [{"@id": package.package, "identifiers": {"purl": package.package}}]
        return [{"products": products, "status": "affected", "action_statement": _action(document, package)}]
    statements = []
    for status in VersionStatus:
        versions = package.with_status(status)
        if not versions:
            continue
        statement: dict[str, Any] = {
            "products": [_product(package, v) for v in versions],
            "status": status.value,
        }
        if status is VersionStatus.AFFECTED:
            statement["action_statement"] = _action(document, package)
        elif status is VersionStatus.NOT_AFFECTED:
            statement["justification"] = "vulnerable_code_not_present"
        statements.append(statement)
    return statements


def _product(package: AffectedPackage, version: str) -> dict[str, Any]:
    purl = version_product_id(package, version)
    return {"@id": purl, "identifiers": {"purl": purl}}


def _action(document: AdvisoryDocument, package: AffectedPackage) -> str:
    if package.fixed_versions:
        fixed = ", ".join(package.fixed_versions)
        action = f"Upgrade {package.name} to {fixed}, or a later release of the same line."
    else:
        action = f"No fixed release of {package.name} is available yet."
    if document.mitigations.strip():
        action += " Until then, apply the mitigations in the advisory."
    return action
