"""Plain text from HTML mail: no markup survives, and the work stays linear on hostile input.

nh3 (html5ever) removes every tag; the cuts and chunks around it keep its work bounded, since its
cost grows with the square of nesting depth.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import nh3

# Line breaks HTML implies; [^<>] stops each try at the next tag, so matching stays linear.
_BLOCK_TAG = re.compile(
    r"<\s*(?:/\s*)?(?:p|div|h[1-6]|blockquote|ul|ol|table)\b[^<>]{0,500}>|<\s*(?:br|li|tr|hr)\b[^<>]{0,500}>",
    re.IGNORECASE,
)
# Elements whose content is not text a reader sees.
_HIDDEN_CONTENT = {"script", "style", "title", "head", "template"}
_HIDDEN_OPENING = re.compile(r"<(script|style|title)(?=[\s/>])", re.IGNORECASE)
_HIDDEN_CLOSING = {
    name: re.compile(rf"</{name}[^<>]{{0,100}}>", re.IGNORECASE) for name in ("script", "style", "title")
}
_PRE_OPENING = re.compile(r"<pre(?=[\s/>])", re.IGNORECASE)
_PRE_CLOSING = re.compile(r"</pre", re.IGNORECASE)
_CHUNK_CHARACTERS = 10_000
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> str:
    """Plain text from HTML: nh3 removes every tag (and script and style contents), then entities
    are unescaped. The result is text, never markup; a literal "<b>" the author typed as text
    stays, as it would in a plain-text mail. Line breaks follow block tags; <pre> keeps its own."""
    pieces: list[str] = []
    for index, piece in enumerate(_split_pre(_without_hidden(markup))):
        if index % 2:
            pieces.append("\n" + _strip_markup(piece) + "\n")
        else:
            flowed = _BLOCK_TAG.sub(lambda tag: "\n" + tag.group(0), " ".join(piece.split()))
            lines = (_SPACES.sub(" ", line).strip() for line in _strip_markup(flowed).split("\n"))
            pieces.append("\n".join(lines))
    return _BLANK_LINES.sub("\n\n", "".join(pieces)).strip()


def _without_hidden(markup: str) -> str:
    """Cut script, style and title elements out whole, before ``_strip_markup`` works in chunks.

    Their content ends at the first closing tag (HTML's script data and raw text states), so
    searching for it matches how a browser reads them. Searches only move forward: linear.
    """
    kept: list[str] = []
    start = 0
    while (opening := _HIDDEN_OPENING.search(markup, start)) is not None:
        kept.append(markup[start : opening.start()])
        closing = _HIDDEN_CLOSING[opening.group(1).lower()].search(markup, opening.end())
        start = closing.end() if closing else len(markup)
    kept.append(markup[start:])
    return "".join(kept)


def _split_pre(markup: str) -> list[str]:
    """Alternate pieces outside and inside <pre>…</pre>; searches only move forward: linear."""
    pieces: list[str] = []
    start = 0
    while (opening := _PRE_OPENING.search(markup, start)) is not None:
        closing = _PRE_CLOSING.search(markup, opening.end())
        if closing is None:
            break
        pieces += [markup[start : opening.start()], markup[opening.start() : closing.start()]]
        start = closing.start()
    pieces.append(markup[start:])
    return pieces


def _strip_markup(markup: str) -> str:
    return "".join(
        html.unescape(nh3.clean(chunk, tags=set(), clean_content_tags=_HIDDEN_CONTENT))
        for chunk in _chunks(markup)
    )


def _chunks(markup: str) -> Iterator[str]:
    """Pieces of at most ``_CHUNK_CHARACTERS``, cut before a "<" so tags stay whole.

    html5ever's work grows with the square of nesting depth (thousands of unclosed <div>s take
    minutes); cleaning in bounded pieces bounds the depth. Text is all that is kept, so a piece
    boundary costs at most a line break.
    """
    start = 0
    while len(markup) - start > _CHUNK_CHARACTERS:
        cut = markup.rfind("<", start + 1, start + _CHUNK_CHARACTERS)
        if cut == -1:
            cut = start + _CHUNK_CHARACTERS
        yield markup[start:cut]
        start = cut
    yield markup[start:]
