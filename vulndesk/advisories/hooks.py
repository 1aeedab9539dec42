"""Functions other domains register to hear about publication (the distributors are told here).

Each is called inside the publishing transaction, with the advisory and the revision: what it
queues exists only if the publication commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vulndesk.advisories.models import Advisory, AdvisoryRevision

on_published: list[Callable[[Advisory, AdvisoryRevision], None]] = []
