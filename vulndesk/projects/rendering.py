"""SECURITY.md and security.txt (RFC 9116), rendered from a project's policy."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from vulndesk.projects import commitments, hooks
from vulndesk.projects.releases import version_table

if TYPE_CHECKING:
    from vulndesk.openpgp.models import ProjectKey
    from vulndesk.projects.models import Project
    from vulndesk.projects.policy import Policy

# RFC 9116 §2.5.5: Expires should be less than a year ahead; we renew every time it is served.
SECURITY_TXT_LIFETIME = dt.timedelta(days=180)


def absolute(path: str) -> str:
    return settings.BASE_URL + path


def policy_context(project: Project, policy: Policy | None = None) -> dict[str, object]:
    """``policy`` is an unsaved one the editor previews; by default the project's own."""
    policy = policy or project.policy
    return {
        "project": project,
        "policy": policy,
        "policy_url": absolute(reverse("project-policy", args=[project.slug])),
        "report_url": absolute(reverse("report-form", args=[project.slug])),
        "security_md_url": absolute(reverse("project-security-md", args=[project.slug])),
        "supported_versions": commitments.supported_versions_sentence(
            policy.supported_versions, policy.project.name
        ),
        "versions": version_table(project),
        "response": commitments.response_commitments(policy),
        "disclosure": commitments.disclosure_commitments(policy),
        "fields": [(commitments.FIELD_LABELS[f.name], f.required) for f in policy.reporter_guidance.fields],
        "languages": commitments.language_names(policy.reporter_guidance.preferred_languages),
        "impacts": commitments.join_words([str(i) for i in policy.severity.highest_priority_impacts]),
        "openpgp_key": _project_key(project),
        "openpgp_key_url": openpgp_key_url(project),
    }


def _project_key(project: Project) -> ProjectKey | None:
    # Through the key's relation to its project: the OpenPGP domain builds on projects.
    try:
        return project.openpgp_key
    except ObjectDoesNotExist:
        return None


def openpgp_key_url(project: Project) -> str:
    return absolute(reverse("project-openpgp-key", args=[project.slug]))


def render_security_md(project: Project, policy: Policy | None = None) -> str:
    return render_to_string("projects/SECURITY.md", policy_context(project, policy)).strip() + "\n"


def security_txt_canonical_urls(project: Project, *, is_default: bool) -> list[str]:
    urls = [absolute(reverse("project-security-txt", args=[project.slug]))]
    if is_default:
        urls.insert(0, absolute("/.well-known/security.txt"))
    return urls


def render_security_txt(project: Project, *, is_default: bool) -> str:
    """The fields, signed as RFC 9116 §2.3 recommends when the project has a key."""
    text = security_txt_fields(project, is_default=is_default)
    for sign in hooks.text_signers:
        text = sign(project, text)
    return text


def security_txt_expires() -> dt.datetime:
    """Midnight UTC about half a year ahead: the same all day, so a signed text is signed once a day."""
    return (
        (timezone.now() + SECURITY_TXT_LIFETIME)
        .astimezone(dt.UTC)
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )


def security_txt_fields(project: Project, *, is_default: bool) -> str:
    policy = project.policy
    lines = [f"# Security contact for {policy.project.name}, from its vulndesk policy."]
    lines += [f"Contact: mailto:{address}" for address in policy.contacts.intake_addresses]
    lines.append(f"Contact: {absolute(reverse('report-form', args=[project.slug]))}")
    if _project_key(project) is not None:
        lines.append(f"Encryption: {openpgp_key_url(project)}")  # RFC 9116 §2.5.4
    lines.append(f"Expires: {security_txt_expires().strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines.append(f"Policy: {absolute(reverse('project-policy', args=[project.slug]))}")
    lines.append(f"Preferred-Languages: {', '.join(policy.reporter_guidance.preferred_languages)}")
    lines += [f"Canonical: {url}" for url in security_txt_canonical_urls(project, is_default=is_default)]
    # CSAF 2.0 §7.1.8 (requirement 8): where the instance's CSAF provider metadata lies.
    lines.append(f"CSAF: {absolute(reverse('csaf-provider-metadata'))}")
    return "\n".join(lines) + "\n"
