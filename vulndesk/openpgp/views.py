"""A project's public key, where security.txt's Encryption field points (RFC 9116 §2.5.4)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from vulndesk.openpgp.models import ProjectKey
from vulndesk.projects.access import access_public_project


def project_key(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_public_project(slug)
    key = ProjectKey.objects.filter(project=project).first()
    if key is None:
        raise Http404
    return HttpResponse(key.public_key, content_type="text/plain; charset=utf-8")
