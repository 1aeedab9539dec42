"""The product's URLs, plus a bare view that inserts one row: the HTTP intake's baseline."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from vulndesk.intake.models import IntakeAttempt
from vulndesk.urls import urlpatterns as product_urlpatterns


@csrf_exempt
def baseline_insert(_request: HttpRequest) -> HttpResponse:
    IntakeAttempt.objects.create(bucket="bench-baseline")
    return HttpResponse(status=201)


urlpatterns = [path("bench/baseline/", baseline_insert), *product_urlpatterns]
