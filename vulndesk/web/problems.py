"""The one shape every refusal of an API request answers in."""

from __future__ import annotations

from ninja import Schema


class Problems(Schema):
    """Every refusal of a request: what is wrong, and which field, never the value sent.

    Ninja's own refusals (401, 404) answer ``{"detail": ...}``, which this shape also describes.
    """

    detail: str
    problems: dict[str, str] = {}
