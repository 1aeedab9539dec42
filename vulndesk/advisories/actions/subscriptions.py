"""The security-announce list of a project: double opt-in, one-click unsubscribe (RFC 8058).

An address is stored sealed, with an HMAC to find it again. Nothing is sent to it but the one
confirmation mail until its owner follows the confirmation link; the links carry a signed token
naming the subscription, never the address.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.advisories import emails
from vulndesk.advisories.announce_tokens import CONFIRM_SALT, UNSUBSCRIBE_SALT, confirm_token
from vulndesk.advisories.models import Subscription
from vulndesk.audit.actions import record_event
from vulndesk.notify.actions import queue_email
from vulndesk.projects.models import Project

CONFIRM_WITHIN = 7 * 24 * 3600  # seconds a confirmation link stays valid


class SubscriptionError(ValueError):
    pass


def address_digest(address: str) -> str:
    key = hmac.new(settings.SECRET_KEY.encode(), b"vulndesk announce addresses v1", hashlib.sha256).digest()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


def do_subscribe(project: Project, address: str, *, acting_user: User | None) -> None:
    """Ask for a subscription. The answer is the same whether or not the address was already on the
    list, so the form tells nobody who subscribes; a confirmed address gets no second mail."""
    try:
        validate_email(address.strip())
    except Exception:  # noqa: BLE001  # Django's ValidationError: the message below is the clear one
        raise SubscriptionError("that is not an email address") from None
    with transaction.atomic():
        subscription = Subscription.objects.filter(
            project=project, address_digest=address_digest(address)
        ).first()
        if subscription is None:
            subscription = Subscription(project=project, address_digest=address_digest(address))
            subscription.address = address.strip()
            subscription.save()
        elif subscription.is_active:
            return
        subscription.unsubscribed_at = None
        subscription.save(update_fields=["unsubscribed_at"])
        # The subscription's row only, never the address: the audit log is read by the whole team.
        record_event("announce.requested", acting_user=acting_user, project=project, target=subscription)
        queue_email(emails.confirm_subscription(subscription, confirm_token(subscription)), project=project)


def _subscription(token: str, salt: str, max_age: int | None) -> Subscription:
    try:
        uid = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        raise SubscriptionError("this link is not valid or has expired") from None
    found = Subscription.objects.filter(uid=uid).select_related("project").first()
    if found is None:
        raise SubscriptionError("this link is not valid or has expired")
    return found


def subscription_for(token: str, *, unsubscribe: bool) -> Subscription:
    if unsubscribe:
        return _subscription(token, UNSUBSCRIBE_SALT, None)
    return _subscription(token, CONFIRM_SALT, CONFIRM_WITHIN)


def do_confirm_subscription(token: str, *, acting_user: User | None) -> Subscription:
    subscription = subscription_for(token, unsubscribe=False)
    with transaction.atomic():
        if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
            subscription.confirmed_at, subscription.unsubscribed_at = timezone.now(), None
            subscription.save(update_fields=["confirmed_at", "unsubscribed_at"])
            record_event(
                "announce.subscribed",
                acting_user=acting_user,
                project=subscription.project,
                target=subscription,
            )
    return subscription


def do_unsubscribe(token: str, *, acting_user: User | None) -> Subscription:
    subscription = subscription_for(token, unsubscribe=True)
    with transaction.atomic():
        if subscription.unsubscribed_at is None:
            subscription.unsubscribed_at = timezone.now()
            subscription.save(update_fields=["unsubscribed_at"])
            record_event(
                "announce.unsubscribed",
                acting_user=acting_user,
                project=subscription.project,
                target=subscription,
            )
    return subscription
