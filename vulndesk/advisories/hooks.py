"""Functions other domains register to hear about publication (the distributors are told here, and
the cases domain closes a case waiting for it), and how the worker is asked to publish at a moment.

Each ``on_published`` is called inside the publishing transaction, with the advisory and the
revision: what it queues exists only if the publication commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vulndesk.advisories.models import Advisory, AdvisoryRevision

on_published: list[Callable[[Advisory, AdvisoryRevision], None]] = []

publication_queues: list[Callable[[dt.datetime], None]] = []
"""After a schedule commits: queue the worker's publication task for that moment (``tasks.py``
registers it in ``advisories/apps.py``; it imports the actions, so they cannot import it)."""
