"""What other domains register to take part in a project's public texts.

The projects domain sits below OpenPGP, so it cannot sign: ``openpgp`` registers here how
security.txt is signed with the project's key (RFC 9116 §2.3): ``openpgp.signing.signed_by_project``,
registered in ``openpgp/apps.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vulndesk.projects.models import Project


class TextSigner(Protocol):
    """``text`` signed for ``project``, or as it is when the project has nothing to sign with."""

    def __call__(self, project: Project, text: str) -> str: ...


text_signers: list[TextSigner] = []
