"""Nothing private is kept by a browser's or a proxy's cache.

A page behind a sign-in, a tracking link or an API credential shows what only its holder may read:
kept in a shared cache or on a shared computer's disk, it would outlive the sign-out or the link.
One rule here instead of a decorator on each view, so a new page cannot forget it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

# Every page under these belongs to someone: the team's desk, the distributor portal, a person's
# account and sign-in, and the reporter's tracking link (whose token is the path itself).
PRIVATE_PREFIXES = ("/desk/", "/distributor/", "/accounts/", "/t/")


def is_private(request: HttpRequest) -> bool:
    """Whether the answer to ``request`` is for its sender's eyes only."""
    if request.path.startswith(PRIVATE_PREFIXES):
        return True
    if "HTTP_AUTHORIZATION" in request.META:  # an API token: the answer is what that token may read
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class PrivatePagesMiddleware:
    """``Cache-Control: no-store`` on every private answer (see ``is_private``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Decided before the view runs: signing out inside it must not make its answer cacheable.
        private = is_private(request)
        response = self.get_response(request)
        if private or is_private(request):
            add_never_cache_headers(response)
        return response
