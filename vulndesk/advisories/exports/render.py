"""Every export format by name, and the one way they are written out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from vulndesk.advisories.document import AdvisoryDocument
from vulndesk.advisories.exports import csaf, cve, openvex, osv
from vulndesk.advisories.exports.context import ExportContext, ExportError

Exporter = Callable[[AdvisoryDocument, ExportContext], dict[str, Any]]

# In the order of FORMAT_NAMES.
FORMATS: dict[str, Exporter] = {
    "osv": osv.export,
    "cve": cve.export,
    "csaf": csaf.export,
    "csaf-vex": csaf.export_vex,
    "openvex": openvex.export,
}


def render(format_name: str, document: AdvisoryDocument, context: ExportContext) -> bytes:
    """The export as UTF-8 JSON with sorted keys: the same revision gives the same bytes."""
    try:
        exporter = FORMATS[format_name]
    except KeyError:
        raise ExportError(
            f"unknown export format {format_name!r}; choose one of {', '.join(FORMATS)}"
        ) from None
    text = json.dumps(exporter(document, context), sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode()
