"""The markdown renderer itself, with no Django in it: ``render_bounded`` runs it in a child process.

Run as ``python -I -m vulndesk.web.markdown_core``: reads text on stdin and writes sanitised HTML
on stdout, under a CPU and a memory limit set before it reads anything.
"""

from __future__ import annotations

import resource
import sys

import nh3
from markdown_it import MarkdownIt

# "js-default" disables raw HTML and unsafe link schemes in the parser; nh3 is the second wall.
_parser = MarkdownIt("js-default").enable("table")

_ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "del",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}

CPU_SECONDS = 2
MEMORY_BYTES = 512 * 1024 * 1024


def clean_html(text: str) -> str:
    """markdown-it's HTML for ``text``, with every tag, attribute and URL scheme outside the lists gone."""
    return nh3.clean(
        _parser.render(text),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def _child() -> None:
    # Limits first: a hostile text then ends with SIGXCPU, whatever else runs on the machine.
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    sys.stdout.write(clean_html(sys.stdin.buffer.read().decode()))


if __name__ == "__main__":
    _child()
