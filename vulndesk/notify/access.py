"""The one door to an outbox row named in a request: administrators only, 404 for anyone else."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest

from vulndesk.notify.models import OutboundEmail, OutboundWebhook

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


def outbox_reader(request: HttpRequest) -> User:
    """The administrator behind ``login_required`` who reads the outbox; 404 for anyone else.
    The person model comes by Django's own setting, not an import: accounts builds on notify."""
    user = getattr(request, "user", None)
    if not isinstance(user, get_user_model()) or not user.is_active or not user.is_admin:
        raise Http404
    return user


def access_outbound_email(uid: uuid.UUID, user: User) -> OutboundEmail:
    mail = OutboundEmail.objects.filter(uid=uid).first()
    if mail is None or not user.is_admin:
        raise Http404
    return mail


def access_outbound_webhook(uid: uuid.UUID, user: User) -> OutboundWebhook:
    delivery = OutboundWebhook.objects.select_related("webhook__project").filter(uid=uid).first()
    if delivery is None or not user.is_admin:
        raise Http404
    return delivery
