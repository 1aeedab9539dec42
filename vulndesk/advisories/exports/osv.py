"""OSV 1.7 (https://ossf.github.io/osv-schema/): the format osv.dev and its scanners read.

Each span of a package's range becomes its own ECOSYSTEM range with one ``introduced`` and at
most one ``fixed`` or ``last_affected`` event, the shape osv.dev evaluates without ambiguity.
"""

from __future__ import annotations

from typing import Any

from vulndesk.advisories.document import AdvisoryDocument, Credit, ReferenceType
from vulndesk.advisories.exports.context import ExportContext, ExportError, generator_version, timestamp
from vulndesk.advisories.exports.ranges import AffectedPackage, Span, VersionStatus, affected_packages

SCHEMA_VERSION = "1.7.5"
# Package URL type -> OSV ecosystem (OSV schema, "affected[].package" and its ecosystems list).
ECOSYSTEMS = {
    "bitnami": "Bitnami",
    "cargo": "crates.io",
    "composer": "Packagist",
    "conan": "ConanCenter",
    "cran": "CRAN",
    "gem": "RubyGems",
    "golang": "Go",
    "hackage": "Hackage",
    "hex": "Hex",
    "maven": "Maven",
    "npm": "npm",
    "nuget": "NuGet",
    "pub": "Pub",
    "pypi": "PyPI",
    "swift": "SwiftURL",
}
# Package URL types of repositories without a registry, and their host: OSV's GIT ranges name them.
REPOSITORY_HOSTS = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}
_UNDATABASED_PREFIX = "x_"  # OSV: ids of a database not registered with osv.dev start with x_


def osv_id(document: AdvisoryDocument) -> str:
    """The project's own ``x_<PREFIX>-YYYY-NNNN``, for ever: a CVE id assigned later is an alias,
    so consumers keep one record, and ours never clashes with osv.dev's own record of the CVE."""
    if document.identifier.startswith(_UNDATABASED_PREFIX):
        return document.identifier
    return _UNDATABASED_PREFIX + document.identifier


def export(document: AdvisoryDocument, context: ExportContext) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": osv_id(document),
        "published": timestamp(document.published_at),
        "modified": timestamp(document.modified_at),
        "summary": document.summary,
        "details": _details(document),
        "affected": [
            _affected(package, context) for package in affected_packages(document.affected, context)
        ],
        "references": _references(document, context),
        "database_specific": {
            "source": context.export_url(document, "osv"),
            "revision": document.revision,
            "generator": f"vulndesk {generator_version()}",
        },
    }
    aliases = [a for a in (document.identifier, *document.all_aliases) if a != record["id"]]
    if aliases:
        record["aliases"] = aliases
    # OSV 1.7: ``related`` names other vulnerabilities, ``upstream`` the ones this one comes from.
    for name in ("related", "upstream"):
        if ids := [i for i in getattr(document, name) if i not in aliases and i != record["id"]]:
            record[name] = ids
    if severity := _severity(document):
        record["severity"] = severity
    if document.severity is not None:
        # GitHub's OSV records name the severity here, upper case, whether or not a vector is given.
        record["database_specific"]["severity"] = document.severity.value.upper()
    if document.cwes:
        record["database_specific"]["cwe_ids"] = list(document.cwes)
    if document.credits:
        record["credits"] = [_credit(credit) for credit in document.credits]
    if document.withdrawn_at is not None:
        record["withdrawn"] = timestamp(document.withdrawn_at)
    return record


def _details(document: AdvisoryDocument) -> str:
    parts = [document.details.strip()]
    if document.mitigations.strip():
        parts.append("## Mitigations\n\n" + document.mitigations.strip())
    if document.withdrawn_at is not None and document.withdrawn_reason:
        parts.append("## Withdrawn\n\n" + document.withdrawn_reason.strip())
    return "\n\n".join(part for part in parts if part)


def _affected(package: AffectedPackage, context: ExportContext) -> dict[str, Any]:
    ecosystem = ECOSYSTEMS.get(package.purl.type)
    if ecosystem is None and package.purl.type in REPOSITORY_HOSTS:
        return _affected_repository(package, context)
    if ecosystem is None:
        raise ExportError(f"OSV has no ecosystem for {package.purl.type} packages ({package.package})")
    entry: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": package.name, "purl": package.package},
        "ranges": [{"type": "ECOSYSTEM", "events": events(span)} for span in package.spans],
    }
    return _with_versions_and_functions(entry, package) | {
        "database_specific": {"vers": str(package.version_range)}
    }


def _with_versions_and_functions(entry: dict[str, Any], package: AffectedPackage) -> dict[str, Any]:
    """The recorded releases inside the range, enumerated (OSV: "versions" lists affected versions
    so a consumer need not evaluate the range), and the affected functions the advisory names."""
    if versions := package.released_with_status(VersionStatus.AFFECTED):
        entry["versions"] = list(versions)
    if package.functions:
        entry["ecosystem_specific"] = {"affected_functions": list(package.functions)}
    return entry


def _affected_repository(package: AffectedPackage, context: ExportContext) -> dict[str, Any]:
    """A package that lives only in a repository (``pkg:github/llm-d/llm-d``): OSV has no ecosystem
    for it, so the entry names no package and says which commits are affected, in a GIT range on
    the repository, with the affected released versions enumerated (OSV schema, "affected")."""
    purl = package.purl
    repo = f"https://{REPOSITORY_HOSTS[purl.type]}/{purl.namespace}/{purl.name}"
    commits = {r.version: r.commit for r in context.releases if r.commit and _same_purl(r.package, package)}
    ranges = [
        {"type": "GIT", "repo": repo, "events": [_as_commit(e, commits, package) for e in events(span)]}
        for span in package.spans
    ]
    return _with_versions_and_functions({"ranges": ranges}, package) | {
        "database_specific": {"purl": package.package, "vers": str(package.version_range)}
    }


def _same_purl(package: str, affected: AffectedPackage) -> bool:
    return package.split("@", 1)[0] == affected.package


def _as_commit(event: dict[str, str], commits: dict[str, str], package: AffectedPackage) -> dict[str, str]:
    """An event's version named by the commit its release was tagged at ("0": from the start)."""
    ((kind, version),) = event.items()
    if version == "0":
        return event
    if version not in commits:
        raise ExportError(
            f"OSV names versions of {package.package} by commit: record the commit release {version} "
            "was tagged at (on the releases page or with the release API)"
        )
    return {kind: commits[version]}


def events(span: Span) -> list[dict[str, str]]:
    """OSV events of one span: introduced, then the fixed or last affected version if any."""
    found = [{"introduced": span.introduced}]
    if span.fixed:
        found.append({"fixed": span.fixed})
    elif span.last_affected:
        found.append({"last_affected": span.last_affected})
    return found


def _severity(document: AdvisoryDocument) -> list[dict[str, str]]:
    severity = []
    if document.cvss31_vector:
        severity.append({"type": "CVSS_V3", "score": document.cvss31_vector})
    if document.cvss40_vector:
        severity.append({"type": "CVSS_V4", "score": document.cvss40_vector})
    return severity


def _credit(credit: Credit) -> dict[str, Any]:
    found: dict[str, Any] = {"name": credit.name, "type": credit.type.value.upper()}
    if credit.contact:
        found["contact"] = list(credit.contact)
    return found


def _references(document: AdvisoryDocument, context: ExportContext) -> list[dict[str, str]]:
    own = {"type": ReferenceType.ADVISORY.value, "url": context.advisory_url(document)}
    return [own] + [{"type": r.type.value, "url": r.url} for r in document.references if r.url != own["url"]]
