"""A small, explainable spam check. A report it flags is held in quarantine, never dropped.

The rules look only at what cheap bulk mail has and real reports rarely have: many links and little
else, or well-known spam vocabulary. Each returns the reason the team sees in the quarantine.
"""

from __future__ import annotations

import re

from vulndesk.intake.submission import Submission

_LINK = re.compile(r"https?://", re.IGNORECASE)
_SPAM_WORDS = re.compile(
    r"\b(viagra|cialis|casino|betting odds|crypto (?:investment|giveaway)|forex signals|"
    r"seo services|backlinks? (?:package|service)|payday loans?|weight loss pills)\b",
    re.IGNORECASE,
)
MAX_LINKS_WITHOUT_TEXT = 5
MIN_WORDS_PER_LINK = 15


def spam_reason(submission: Submission) -> str:
    """Why this submission looks like spam, or "" when it does not."""
    text = " ".join([submission.title, submission.description, *submission.fields.values()])
    # The reason is stored in clear: it names the rule, never words from the report.
    if _SPAM_WORDS.search(text):
        return "spam vocabulary"
    links = len(_LINK.findall(text))
    words = len(text.split())
    if links > MAX_LINKS_WITHOUT_TEXT and words < links * MIN_WORDS_PER_LINK:
        return f"{links} links in {words} words"
    return ""
