"""A sender cannot make the team's report page slow: messages are rendered once, at a bounded cost."""

from __future__ import annotations

import html
import importlib

from django.apps import apps as django_apps
from django.db import connection

from vulndesk.accounts.models import User
from vulndesk.cases.actions import do_post_reporter_reply
from vulndesk.cases.models import Message, Via
from vulndesk.intake.models import Report
from vulndesk.projects.models import Project
from vulndesk.web.markdown import render_bounded

from .conftest import a_report, signed_in

# Each of these took markdown-it seconds (the first one 9 s on the team's page).
HOSTILE = [
    "[" * 40_000,
    "*" * 40_000,
    "![" * 20_000,
    "> " * 100 + "x\n" * 2_000,
    ">" * 40_000,
    "`" * 40_000,
    "[a](" * 10_000,
    "*_a" * 13_000,
    "[[" * 10_000 + "]]" * 10_000,
    "<a" * 20_000,
]


def hostile_messages() -> list[str]:
    """Fifty messages, each kind five times, each made distinct so the page shows all of them."""
    return [f"{text}\n\nhostile-{n}<script>" for n in range(5) for text in HOSTILE]


def test_a_page_of_fifty_hostile_messages_is_served_to_the_team_with_their_text_escaped(
    project_a: Project, alice: User, settings: object
) -> None:
    setattr(settings, "REPLIES_PER_REPORT_PER_HOUR", 100)  # noqa: B010 - pytest-django's settings
    report = a_report(project_a)
    for text in hostile_messages():
        do_post_reporter_reply(report, text, via=Via.WEB, acting_user=None)
    page = signed_in(alice).get(f"/desk/p/llm-d/reports/{report.number}/?all=1")
    assert page.status_code == 200
    body = page.content.decode()
    assert "hostile-0<script>" not in body
    for n in range(5):
        assert f"hostile-{n}&lt;script&gt;" in body
    assert html.escape("[" * 1000) in body
    # The costliest ones were not rendered at all: they are shown as typed, escaped.
    assert body.count('<pre class="plain-text">' + "[" * 1000) == 10  # both runs of brackets


def test_a_costly_text_is_kept_as_escaped_preformatted_text() -> None:
    shown = render_bounded("[" * 40_000 + "<b>")
    assert shown.startswith('<pre class="plain-text">')
    assert "&lt;b&gt;" in shown


def test_ordinary_long_markdown_still_renders_as_markdown() -> None:
    text = ("Some **text** with `code` and a [link](https://example.org).\n\n> quoted\n\n") * 100
    shown = render_bounded(text)
    assert "<strong>text</strong>" in shown
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">link</a>' in shown
    assert "<blockquote>" in shown


def test_the_page_shows_the_html_stored_when_the_message_was_written(project_a: Project, alice: User) -> None:
    report: Report = a_report(project_a)
    message = do_post_reporter_reply(report, "**stored**", via=Via.WEB, acting_user=None)
    assert Message.objects.get(pk=message.pk).html == "<p><strong>stored</strong></p>\n"


def test_messages_stored_before_the_change_get_their_html_when_migrating(project_a: Project) -> None:
    report = a_report(project_a)
    message = do_post_reporter_reply(report, "*old*", via=Via.WEB, acting_user=None)
    Message.objects.filter(pk=message.pk).update(sealed_html="")  # as a row written before 0009
    stored = Message.objects.get(pk=message.pk)
    assert stored.html == '<pre class="plain-text">*old*</pre>'  # shown as typed, never parsed on read
    migration = importlib.import_module("vulndesk.cases.migrations.0009_h16a_message_html")
    migration.render_stored_messages(django_apps, connection.schema_editor())
    assert Message.objects.get(pk=message.pk).html == "<p><em>old</em></p>\n"
