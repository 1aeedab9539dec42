"""Functions other domains register to hear about an embargo, called inside the change's transaction.

The distributors list registers here to tell its members at once when an embargo ends early or
its end moves; the advisories domain, to publish the case's advisory when an agreed embargo ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.embargo.models import Embargo

on_embargo_changed: list[Callable[[Embargo], None]] = []


class EmbargoAgreedHook(Protocol):
    """Called when an end is agreed (or set by the team), before ``on_embargo_changed``."""

    def __call__(self, embargo: Embargo, *, acting_user: User | None) -> None: ...


on_embargo_agreed: list[EmbargoAgreedHook] = []
