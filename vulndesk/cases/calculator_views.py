"""The score of a vector, for the calculators' script: the page's score follows each choice."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from vulndesk.accounts.access import signed_in_user
from vulndesk.accounts.permissions import Permission
from vulndesk.cases.calculator import CVSS31, CVSS40
from vulndesk.cases.severity import SeverityError
from vulndesk.intake.access import access_report_for_team

MAX_VECTOR = 300  # longer than any CVSS 4.0 vector with every metric


@login_required
@require_POST
def score(request: HttpRequest, slug: str, number: int) -> JsonResponse:
    """POSTed (never in a URL): a case's vector is not public while it is embargoed."""
    access_report_for_team(slug, number, signed_in_user(request), Permission.PROJECT_REPORT_READ)
    vector = request.POST.get("vector", "")[:MAX_VECTOR].strip()
    version = CVSS31 if vector.startswith(CVSS31.prefix + "/") else CVSS40
    try:
        scored = version.score(vector)
    except SeverityError as exc:
        return JsonResponse({"problem": str(exc)}, status=422)
    return JsonResponse(
        {
            "vector": scored.vector,
            "score": scored.score,
            "rating": scored.rating,
            "text": f"{scored.score:.1f} {scored.rating}",
        }
    )
