"""What other domains register to take part in delivering mail, called by the worker as it sends.

The outbox sits below the OpenPGP domain, so it cannot call it: ``openpgp`` registers here how a
mail is sealed for its recipient (encrypted to a reporter's or a distributor member's key, signed
with the project's key): ``openpgp.outbound.for_recipient``, registered in ``openpgp/apps.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.core.mail import EmailMessage

    from vulndesk.notify.models import OutboundEmail


class MailSealer(Protocol):
    """The mail as it must leave. Given a ``required_key`` (an armored public key), it returns the
    mail encrypted to it or raises: such a mail never goes in clear."""

    def __call__(self, outbound: OutboundEmail, mail: EmailMessage, *, required_key: str) -> EmailMessage: ...


mail_sealers: list[MailSealer] = []
