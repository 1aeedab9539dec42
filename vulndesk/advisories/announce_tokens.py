"""The signed tokens in the announce list's links: each names a subscription, never its address.

Apart from the subscription actions because the mail that carries an unsubscribe link needs one
too, and the actions send that mail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core import signing

if TYPE_CHECKING:
    from vulndesk.advisories.models import Subscription

CONFIRM_SALT, UNSUBSCRIBE_SALT = "vulndesk.announce.confirm", "vulndesk.announce.unsubscribe"


def confirm_token(subscription: Subscription) -> str:
    return signing.dumps(str(subscription.uid), salt=CONFIRM_SALT)


def unsubscribe_token(subscription: Subscription) -> str:
    return signing.dumps(str(subscription.uid), salt=UNSUBSCRIBE_SALT)
