"""Every signed-in request carries a second factor: a session without one is signed out.

Only ``accounts.views`` signs people in, and it stamps the session when the second factor matched;
this check catches any other path to a session (and sessions from before second factors existed).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from vulndesk.accounts.views import SECOND_FACTOR_AT


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and SECOND_FACTOR_AT not in request.session:
            logout(request)
        return self.get_response(request)
