"""CWE names for the exports, from the catalog the case's severity is checked against.

CSAF 2.0 requires a weakness's name next to its id exactly as the catalog writes it (mandatory
test 6.1.11); the catalog is the one the ``csaf`` validator itself reads (``cases/severity.py``).
"""

from __future__ import annotations

from vulndesk.advisories.exports.context import ExportError
from vulndesk.cases import severity


def cwe_name(cwe_id: str) -> str:
    try:
        return severity.cwe_name(cwe_id)
    except severity.SeverityError as exc:
        raise ExportError(str(exc)) from exc
