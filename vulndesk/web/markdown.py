"""User and policy text as safe HTML: markdown-it renders, nh3 (ammonia) keeps only inert markup.

markdown-it's cost is not linear in its input: nested block quotes with lazy lines, or long runs
of ``[`` or ``![``, take seconds for a few thousand characters (``"> " * 100 + "x\\n" * 2000``
took 3 s). Text people send us (messages in a report's conversation) is therefore rendered once,
when it is written, by ``render_bounded``: cheap text in this process, anything else in a child
process stopped after ``markdown_core.CPU_SECONDS`` of CPU; text it could not render in time, or
that is plainly too costly, is kept as escaped preformatted text. Pages then show the stored HTML
and never parse a message again.
"""

from __future__ import annotations

import re

# The child runs our own module with our own interpreter, without a shell.
import subprocess  # nosec B404
import sys

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from vulndesk.web.markdown_core import CPU_SECONDS, clean_html

# Below these, markdown-it answers in milliseconds whatever the text (measured, see bench/README.md).
CHEAP_CHARACTERS = 2000
CHEAP_BRACKETS = 50
# The deepest quote times the number of lines: nested quotes with lazy lines cost about that.
CHEAP_QUOTE_COST = 2000
# Past these, no text renders within the child's limit: it is not even tried.
HOPELESS_BRACKETS = 5000
HOPELESS_QUOTE_COST = 500_000
_QUOTE_MARKS = re.compile(r"^[ \t>]*", re.MULTILINE)


def render_markdown(text: str) -> SafeString:
    # Safe: nh3 has just removed every tag, attribute and URL scheme outside the allow-lists.
    return mark_safe(clean_html(text))  # noqa: S308  # nosec B308, B703


def as_plain_text(text: str) -> SafeString:
    """The text as it was typed, escaped: what a message shows when markdown would cost too much."""
    return mark_safe(f'<pre class="plain-text">{escape(text)}</pre>')  # noqa: S308  # nosec B308, B703


def _quote_cost(text: str) -> int:
    deepest = max(str(marks).count(">") for marks in _QUOTE_MARKS.findall(text))
    return deepest * (text.count("\n") + 1)


def render_bounded(text: str) -> SafeString:
    """Sanitised markdown of ``text`` at a bounded cost: at most about ``CPU_SECONDS`` of CPU."""
    brackets, quotes = text.count("["), _quote_cost(text)
    if len(text) <= CHEAP_CHARACTERS and brackets <= CHEAP_BRACKETS and quotes <= CHEAP_QUOTE_COST:
        return render_markdown(text)
    if brackets > HOPELESS_BRACKETS or quotes > HOPELESS_QUOTE_COST:
        return as_plain_text(text)
    try:
        child = subprocess.run(  # our interpreter, our module, the text on stdin
            [sys.executable, "-I", "-m", "vulndesk.web.markdown_core"],
            input=text.encode(),
            capture_output=True,
            timeout=CPU_SECONDS + 3,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return as_plain_text(text)
    if child.returncode != 0:
        return as_plain_text(text)
    # Safe: the child ran clean_html, the same markdown-it and nh3 allow-lists as render_markdown.
    return mark_safe(child.stdout.decode())  # noqa: S308  # nosec B308, B703
