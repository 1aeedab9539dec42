"""CSAF 2.0 as a provider publishes it (§7.1): the provider metadata, and per project a distribution
folder with ``index.txt`` and ``changes.csv`` and a ROLIE feed.

Everything here lists published (or withdrawn) advisories only, from their fields kept in clear
(identifier, public title and summary, dates): nothing is decrypted to build a listing, and a draft
never appears. Every document is TLP:WHITE, so every file is open to everyone (requirement 4).

The instance is a ``csaf_provider`` (§7.2.2): documents valid and named as §5.1 says (requirements
1-2), served over TLS when the base URL is https (3), freely (4), never redirected (6), listed in
the provider metadata at the well-known URL (7, 9) and in security.txt (8), each in a folder per
year with ``index.txt`` and ``changes.csv`` (11-13), in a ROLIE feed (15), and with SHA-256 and
SHA-512 hash files (18). Once every project has an OpenPGP key, each document also has a detached
signature by it (19) and the keys are listed in the metadata (20): a ``csaf_trusted_provider``.
§7.2.2 asks for requirements 11-14 or 15-17; the ROLIE feed makes the role (16 and 17, the service
and category documents, are optional), so the folder serves no HTML directory listing (14).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Any

# Only to write the Atom feed's attributes: nothing here parses XML.
from xml.sax.xmlreader import AttributesImpl  # nosec B406

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.xmlutils import SimplerXMLGenerator

from vulndesk.advisories.access import public_advisories
from vulndesk.advisories.exports.context import timestamp
from vulndesk.advisories.exports.csaf import (
    SECURITY_ADVISORY,
    distribution_path,
    distribution_url,
    tracking_id,
)
from vulndesk.advisories.exports.published import CSAF_PROFILES as PROFILES
from vulndesk.advisories.models import Advisory
from vulndesk.openpgp.models import ProjectKey
from vulndesk.openpgp.signing import detached_signature
from vulndesk.projects.models import Project
from vulndesk.projects.rendering import openpgp_key_url

PROVIDER_METADATA_PATH = "/.well-known/csaf/provider-metadata.json"  # CSAF 2.0 §7.1.9
FEED_FILE = "feed-tlp-white.json"
ATOM_FEED_FILE = "feed-tlp-white.atom"
# Requirement 18: each document has hash files, named by appending the algorithm.
HASH_ALGORITHMS = ("sha256", "sha512")
SIGNATURE_SUFFIX = "asc"  # requirement 19, when the project has an OpenPGP key
ATOM_NS = "http://www.w3.org/2005/Atom"
ROLIE_NS = "urn:ietf:params:xml:ns:rolie-1.0"  # RFC 8322 §9.3
TLP_LABEL = "WHITE"  # published advisories only: CSAF 2.0's label for "no restriction"
CSAF_SCHEMA_URL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
# RFC 8322 §7.1.1 (ROLIE information type): the feed carries CSAF documents.
ROLIE_CATEGORY = {"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}


@dataclass(frozen=True)
class DistributedDocument:
    """One CSAF document of a project's distribution folder."""

    advisory: Advisory
    format_name: str  # "csaf" or "csaf-vex"

    @property
    def category(self) -> str:
        return PROFILES[self.format_name]

    @property
    def tracking_id(self) -> str:
        return tracking_id(self.advisory.identifier, self.category)

    @property
    def path(self) -> str:
        """Relative to the distribution folder: ``<YYYY>/<canonical file name>``."""
        return distribution_path(self.advisory.identifier, self.published_at, self.category)

    @property
    def title(self) -> str:
        title = self.advisory.public_title or self.advisory.identifier
        return title if self.category == SECURITY_ADVISORY else f"{title} (VEX)"

    @property
    def published_at(self) -> dt.datetime:
        return self.advisory.published_at  # type: ignore[return-value]  # public advisories have one

    @property
    def current_release_at(self) -> dt.datetime:
        """The document's ``current_release_date``, as ``documents.document`` computes it."""
        advisory = self.advisory
        return advisory.withdrawn_at or advisory.modified_at or self.published_at


def _project_advisories(project: Project) -> QuerySet[Advisory]:
    return public_advisories().filter(project=project)


def distributed_documents(project: Project) -> list[DistributedDocument]:
    """Both profiles of every public advisory of the project, the latest changed first."""
    found = [
        DistributedDocument(advisory, format_name)
        for advisory in _project_advisories(project)
        for format_name in PROFILES
    ]
    return sorted(found, key=lambda d: (d.current_release_at, d.path), reverse=True)


def hash_file(body: bytes, file_name: str, algorithm: str) -> str:
    """Requirement 18: the hexadecimal digest first, then a space and the file's name, as
    ``sha512sum`` writes it (and checks it with ``--check``)."""
    return f"{hashlib.new(algorithm, body).hexdigest()}  {file_name}\n"


def find_distributed(project: Project, year: int, file_name: str) -> DistributedDocument:
    """The document at ``<year>/<file_name>`` of the folder; Http404 for any other name."""
    wanted = f"{year}/{file_name}"
    for candidate in distributed_documents(project):
        if candidate.path == wanted:
            return candidate
    raise Http404


# --- the distribution folder (requirements 11-13) ---------------------------------------------


def index_txt(project: Project) -> str:
    """Requirement 12: every document's path relative to the folder, one a line."""
    return "".join(f"{document.path}\n" for document in distributed_documents(project))


def changes_csv(project: Project) -> str:
    """Requirement 13: path and current release date, the most recent change first, every field
    quoted as the standard's example is."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for document in distributed_documents(project):
        writer.writerow([document.path, timestamp(document.current_release_at)])
    return out.getvalue()


# --- the ROLIE feed (requirement 15) ----------------------------------------------------------


def feed_url(project: Project) -> str:
    return f"{distribution_url(settings.BASE_URL, project.slug)}/{FEED_FILE}"


def rolie_feed(project: Project) -> dict[str, Any]:
    """One JSON ROLIE feed (RFC 8322) per project with every TLP:WHITE document (requirement 15:
    all documents of one TLP label in one feed)."""
    documents = distributed_documents(project)
    updated = max((d.current_release_at for d in documents), default=project.created_at)
    signed = project_key(project) is not None
    return {
        "feed": {
            "id": f"{project.slug}-csaf-feed-tlp-{TLP_LABEL.lower()}",
            "title": f"{project.name} CSAF advisories (TLP:{TLP_LABEL})",
            "link": [{"rel": "self", "href": feed_url(project)}],
            "category": [ROLIE_CATEGORY],
            "updated": timestamp(updated),
            "entry": [_feed_entry(project, document, signed=signed) for document in documents],
        }
    }


def _feed_entry(project: Project, document: DistributedDocument, *, signed: bool) -> dict[str, Any]:
    url = f"{distribution_url(settings.BASE_URL, project.slug)}/{document.path}"
    entry: dict[str, Any] = {
        "id": document.tracking_id,
        "title": document.title,
        "link": [
            {"rel": "self", "href": url},
            *({"rel": "hash", "href": f"{url}.{algorithm}"} for algorithm in HASH_ALGORITHMS),
            *([{"rel": "signature", "href": f"{url}.{SIGNATURE_SUFFIX}"}] if signed else []),
        ],
        "published": timestamp(document.published_at),
        "updated": timestamp(document.current_release_at),
        "content": {"type": "application/json", "src": url},
        "format": {"schema": CSAF_SCHEMA_URL, "version": "2.0"},
    }
    if summary := document.advisory.public_summary.strip():
        entry["summary"] = {"content": summary}
    return entry


def atom_feed_url(project: Project) -> str:
    return f"{distribution_url(settings.BASE_URL, project.slug)}/{ATOM_FEED_FILE}"


def rolie_atom_feed(project: Project) -> str:
    """The same feed in RFC 8322's own form, Atom with the ROLIE namespace, for ROLIE clients that
    read XML. CSAF 2.0 (requirement 15) wants the JSON form, which the provider metadata lists."""
    documents = distributed_documents(project)
    updated = max((d.current_release_at for d in documents), default=project.created_at)
    out = io.StringIO()
    xml = SimplerXMLGenerator(out, "utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("feed", AttributesImpl({"xmlns": ATOM_NS, "xmlns:rolie": ROLIE_NS}))
    xml.addQuickElement("id", f"urn:vulndesk:csaf:{project.slug}-csaf-feed-tlp-{TLP_LABEL.lower()}")
    xml.addQuickElement("title", f"{project.name} CSAF advisories (TLP:{TLP_LABEL})")
    xml.addQuickElement("link", attrs={"rel": "self", "href": atom_feed_url(project)})
    xml.addQuickElement("category", attrs=ROLIE_CATEGORY)
    xml.addQuickElement("updated", timestamp(updated))
    xml.startElement("author", AttributesImpl({}))
    xml.addQuickElement("name", project.policy.project.security_team)
    xml.endElement("author")
    signed = project_key(project) is not None
    for document in documents:
        _atom_entry(xml, project, document, signed=signed)
    xml.endElement("feed")
    xml.endDocument()
    return out.getvalue() + "\n"


def _atom_entry(
    xml: SimplerXMLGenerator, project: Project, document: DistributedDocument, *, signed: bool
) -> None:
    url = f"{distribution_url(settings.BASE_URL, project.slug)}/{document.path}"
    xml.startElement("entry", AttributesImpl({}))
    xml.addQuickElement("id", f"{url}")
    xml.addQuickElement("title", document.title)
    xml.addQuickElement("link", attrs={"rel": "self", "type": "application/json", "href": url})
    for algorithm in HASH_ALGORITHMS:
        xml.addQuickElement("link", attrs={"rel": "hash", "type": "text/plain", "href": f"{url}.{algorithm}"})
    if signed:
        signature = f"{url}.{SIGNATURE_SUFFIX}"
        xml.addQuickElement(
            "link", attrs={"rel": "signature", "type": "application/pgp-signature", "href": signature}
        )
    xml.addQuickElement("published", timestamp(document.published_at))
    xml.addQuickElement("updated", timestamp(document.current_release_at))
    if summary := document.advisory.public_summary.strip():
        xml.addQuickElement("summary", summary, {"type": "text"})
    xml.addQuickElement("content", attrs={"type": "application/json", "src": url})
    xml.addQuickElement("rolie:format", attrs={"ns": CSAF_SCHEMA_URL, "version": "2.0"})
    xml.endElement("entry")


# --- the provider metadata (requirement 7) ----------------------------------------------------


def provider_metadata() -> dict[str, Any]:
    """The instance's ``provider-metadata.json``: its publisher, and each project's folder and feed."""
    projects = list(Project.objects.order_by("slug"))
    keys = {key.project_id: key for key in ProjectKey.objects.filter(project__in=projects)}
    # Requirements 19-20: a trusted provider signs every document and lists the keys.
    trusted = bool(projects) and all(project.pk in keys for project in projects)
    metadata: dict[str, Any] = {
        "canonical_url": settings.BASE_URL + PROVIDER_METADATA_PATH,
        "last_updated": timestamp(_last_updated()),
        "list_on_CSAF_aggregators": True,
        "mirror_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "publisher": {
            "category": "vendor",
            "name": settings.CSAF_PUBLISHER_NAME,
            "namespace": settings.BASE_URL,
        },
        "role": "csaf_trusted_provider" if trusted else "csaf_provider",
    }
    if projects:
        metadata["distributions"] = [_distribution(project) for project in projects]
    if keys:
        metadata["pgp_keys"] = [
            {"fingerprint": keys[p.pk].fingerprint, "url": openpgp_key_url(p)}
            for p in projects
            if p.pk in keys
        ]
    return metadata


def project_key(project: Project) -> ProjectKey | None:
    return ProjectKey.objects.filter(project=project).first()


def signature_file(project: Project, body: bytes) -> str:
    """Requirement 19: the document's detached signature by the project's key; Http404 without one."""
    key = project_key(project)
    if key is None:
        raise Http404
    return detached_signature(key, body)


def _distribution(project: Project) -> dict[str, Any]:
    return {
        "directory_url": distribution_url(settings.BASE_URL, project.slug),
        "rolie": {
            "feeds": [
                {
                    "summary": f"All TLP:{TLP_LABEL} advisories of {project.name}.",
                    "tlp_label": TLP_LABEL,
                    "url": feed_url(project),
                }
            ]
        },
    }


def _last_updated() -> dt.datetime:
    """The latest change of any listed document or project, so the metadata's date moves with them."""
    moments = [
        moment
        for row in public_advisories().values_list("published_at", "modified_at", "withdrawn_at")
        for moment in row
        if moment is not None
    ]
    moments += Project.objects.values_list("created_at", flat=True)
    return max(moments, default=timezone.now())
