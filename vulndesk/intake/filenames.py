"""Attachment names as the team and the reporter read them.

A name is text chosen by whoever sent the file. Bidirectional controls reorder what is shown:
``"\\u202egnp.exe"`` is displayed as "exe.png", so a program looks like a picture (the "RLO
trick", Unicode TR #36 §2.1 and CVE-2021-42574's "Trojan Source" family). Every control and
format character (Unicode categories Cc and Cf: the bidi embeddings, overrides and isolates
U+202A-E and U+2066-9, the marks U+200E/F and U+061C, zero-width characters, the BOM) and the line
and paragraph separators are removed at intake; a name stored before that is shown with them
written out as ``<U+202E>``.
"""

from __future__ import annotations

import unicodedata

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
MAX_NAME = 150


def is_invisible(character: str) -> bool:
    return unicodedata.category(character) in _INVISIBLE_CATEGORIES


def safe_filename(name: str) -> str:
    """A file name that is only a name: no directories, no control or format characters, not empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if not is_invisible(c)).strip().lstrip(".")
    return cleaned[:MAX_NAME] or "attachment"


def shown_filename(name: str) -> str:
    """The name with every control or format character written out, for a name already stored."""
    return "".join(f"<U+{ord(c):04X}>" if is_invisible(c) else c for c in name)
