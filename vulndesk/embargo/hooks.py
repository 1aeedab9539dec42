"""Functions other domains register to hear about an embargo, called inside the change's transaction.

The distributors list registers here to tell its members at once when an embargo ends early or
its end moves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vulndesk.embargo.models import Embargo

on_embargo_changed: list[Callable[[Embargo], None]] = []
