"""A project's advisories as feeds: Atom (RFC 4287), JSON Feed 1.1 and the JSON index.

Only published or withdrawn advisories reach these (``access.public_advisories``). Every entry
names its author, the project's security team, and points to each standard export.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.xmlutils import SimplerXMLGenerator

from vulndesk.advisories.access import public_advisories
from vulndesk.advisories.exports import FORMAT_NAMES
from vulndesk.advisories.models import Advisory, AdvisoryState

if TYPE_CHECKING:
    from django.http import HttpRequest

    from vulndesk.projects.models import Project

FEED_SIZE = 50
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


class PlainTextAtomFeed(Atom1Feed):
    """Atom whose summaries are what they are: plain text. Django labels every description
    ``type="html"``, which would make a reader interpret a summary's ``<`` as markup."""

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, {**item, "description": None})
        if item.get("description"):
            handler.addQuickElement("summary", item["description"], {"type": "text"})


def feed_entries(project: Project) -> list[Advisory]:
    advisories = public_advisories().filter(project=project)
    return list(advisories.order_by("-modified_at", "-pk")[:FEED_SIZE])


def _url(request: HttpRequest, name: str, *args: str) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _author(request: HttpRequest, project: Project) -> dict[str, str]:
    return {
        "name": project.policy.project.security_team,
        "url": _url(request, "project-policy", project.slug),
    }


def _is_withdrawn(advisory: Advisory) -> bool:
    return advisory.state == AdvisoryState.WITHDRAWN


def _summary(advisory: Advisory) -> str:
    return advisory.withdrawn_reason if _is_withdrawn(advisory) else advisory.public_summary


def export_urls(request: HttpRequest, advisory: Advisory) -> dict[str, str]:
    slug = advisory.project.slug
    return {name: _url(request, "advisory-export", slug, advisory.identifier, name) for name in FORMAT_NAMES}


def atom(request: HttpRequest, project: Project) -> bytes:
    author = _author(request, project)
    feed_url = _url(request, "advisory-feed", project.slug)
    feed = PlainTextAtomFeed(
        title=f"{project.name} security advisories",
        link=_url(request, "advisory-list", project.slug),
        description=f"Security advisories published by the {author['name']}.",
        language="en",
        feed_url=feed_url,
        feed_guid=feed_url,
        author_name=author["name"],
        author_link=author["url"],
    )
    for advisory in feed_entries(project):
        link = _url(request, "advisory-page", project.slug, advisory.identifier)
        withdrawn = "Withdrawn: " if _is_withdrawn(advisory) else ""
        feed.add_item(
            title=f"{withdrawn}{advisory.public_id}: {advisory.public_title}",
            link=link,
            description=_summary(advisory),
            unique_id=link,
            pubdate=advisory.published_at,
            updateddate=advisory.withdrawn_at or advisory.modified_at,
            author_name=author["name"],
            author_link=author["url"],
        )
    return feed.writeString("utf-8").encode()


def _modified(advisory: Advisory) -> str:
    moment = advisory.withdrawn_at or advisory.modified_at or advisory.published_at
    return moment.isoformat() if moment else ""


def json_feed(request: HttpRequest, project: Project) -> bytes:
    """JSON Feed 1.1; each item's ``_vulndesk`` extension lists its id, aliases and exports."""
    author = _author(request, project)
    items = [
        {
            "id": _url(request, "advisory-page", project.slug, advisory.identifier),
            "url": _url(request, "advisory-page", project.slug, advisory.identifier),
            "title": f"{advisory.public_id}: {advisory.public_title}",
            "summary": _summary(advisory),
            "content_text": _summary(advisory),
            "date_published": advisory.published_at.isoformat() if advisory.published_at else None,
            "date_modified": _modified(advisory),
            "authors": [author],
            "_vulndesk": {
                "identifier": advisory.identifier,
                "aliases": [advisory.cve_id] if advisory.cve_id else [],
                "state": advisory.state,
                "exports": export_urls(request, advisory),
            },
        }
        for advisory in feed_entries(project)
    ]
    body = {
        "version": JSON_FEED_VERSION,
        "title": f"{project.name} security advisories",
        "home_page_url": _url(request, "advisory-list", project.slug),
        "feed_url": _url(request, "advisory-json-feed", project.slug),
        "description": f"Security advisories published by the {author['name']}.",
        "language": "en",
        "authors": [author],
        "items": items,
    }
    return json.dumps(body, indent=2).encode()


def json_index(request: HttpRequest, project: Project) -> bytes:
    entries = [
        {
            "id": advisory.public_id,
            "identifier": advisory.identifier,
            "cve_id": advisory.cve_id or None,
            "title": advisory.public_title,
            "summary": advisory.public_summary,
            "state": advisory.state,
            "published": advisory.published_at.isoformat() if advisory.published_at else None,
            "modified": _modified(advisory),
            "withdrawn": advisory.withdrawn_at.isoformat() if advisory.withdrawn_at else None,
            "url": _url(request, "advisory-page", project.slug, advisory.identifier),
            "exports": export_urls(request, advisory),
        }
        for advisory in feed_entries(project)
    ]
    return json.dumps({"project": project.slug, "advisories": entries}, indent=2, sort_keys=True).encode()
