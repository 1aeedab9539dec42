"""axe-core over every page a visitor, a reporter, the team and a distributor see, in Chromium: 0
violations of any impact, colour contrast included, at 1280 and at 375 px, with folded sections open.
What axe leaves "to review" fails too (a duplicate id, contrast it could not judge), but for a
decorative glyph; and at 375 px no page may scroll sideways.

axe-core is the npm package pinned in ``tests/axe/`` (``make test`` installs it there). It is put
into each page by Playwright's ``evaluate``, which the browser runs outside the page's
Content-Security-Policy: the product's ``script-src 'self'`` stays as it is, and no
``bypass_csp`` is needed.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .browser import ATM_IDENTIFIER, WIDE, Audit, draft_advisory, first_sign_in, send_report
from .live import LiveServer
from .test_distributors import _person

pytestmark = [pytest.mark.browser, pytest.mark.server]

PROJECT = "agentic-tool-mesh"
DISTRIBUTOR, DISTRIBUTOR_PASSWORD = "ada@distro-a.test", "a distributor's long password"
# The sign-in's pages the audit checks, by the names its report gives them.
SIGN_IN_PAGES = {"mfa-setup": "authenticator setup", "recovery-codes": "recovery codes"}


@pytest.fixture
def audit(axe_source: str) -> Audit:
    """Not asserted at the end: the first test asserts it clean, the second reads what it found."""
    return Audit(axe_source)


def _visit(page: Page, audit: Audit, url: str, name: str) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.status < 400, f"{url} answered {response.status}"
    audit.check(page, name)


def _arrive(page: Page, target: Locator) -> None:
    """Press a link or a form's button and wait for the page it brings: the check is of that page."""
    with page.expect_navigation():
        target.click()


def _public_pages(page: Page, audit: Audit, base: str) -> None:
    _visit(page, audit, base + "/", "home")
    for slug in ("llm-d", PROJECT):
        _visit(page, audit, f"{base}/p/{slug}/", f"policy page of {slug}")
        _visit(page, audit, f"{base}/p/{slug}/advisories/", f"advisories of {slug}")
        _arrive(page, page.locator(".advisory-list a").first)
        audit.check(page, f"an advisory of {slug}")
        _visit(page, audit, f"{base}/p/{slug}/announce/", f"announce page of {slug}")
    _visit(page, audit, base + "/advisories/", "every advisory")
    _visit(page, audit, f"{base}/p/{PROJECT}/distributors/apply/", "distributor application")
    _visit(page, audit, base + "/accounts/login/", "sign-in")
    _visit(page, audit, base + "/accounts/password-reset/", "forgot password")
    assert page.goto(base + "/p/no-such-project/") is not None
    audit.check(page, "not found")


def _report_and_track(page: Page, audit: Audit, base: str) -> str:
    """The report form empty, refused, then sent; the received page and the tracking page."""
    _visit(page, audit, f"{base}/p/{PROJECT}/report/", "report form")
    # The browser's own check of required fields would stop the post: let the server refuse it.
    page.locator("form.report-form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Send the report privately").click()
    expect(page.locator(".field-message").first).to_be_visible()
    audit.check(page, "report form with errors")
    page.get_by_label("Summary").fill("Tool router runs shell commands from model output")
    page.get_by_label("Description").fill("A prompt makes the router call the shell tool with any argument.")
    page.get_by_label("Detailed steps to reproduce the vulnerability").fill("1. Start the mesh")
    page.get_by_label("Your name").fill("Rita Reporter")
    page.get_by_label("Your email address").fill("rita@researcher.test")
    page.get_by_role("button", name="Send the report privately").click()
    expect(page.get_by_role("heading", name=re.compile(r"Report #\d+ received"))).to_be_visible()
    audit.check(page, "report received")
    tracking = page.locator("a.tracking-link").get_attribute("href")
    assert tracking
    _visit(page, audit, tracking, "tracking page")
    return tracking


def _case_pages(page: Page, audit: Audit, base: str, numbers: list[int]) -> None:
    for number in numbers:
        case = f"{base}/desk/p/{PROJECT}/reports/{number}/"
        _visit(page, audit, case, f"case {number}")
    for section in ("message", "decision", "people", "severity", "fix", "embargo", "no-fix"):
        _visit(page, audit, f"{base}/desk/p/{PROJECT}/reports/5/edit/{section}/", f"section {section}")


def _advisory_desk(page: Page, audit: Audit, base: str) -> None:
    _visit(page, audit, f"{base}/desk/p/{PROJECT}/advisories/", "advisories desk")
    editor = page.locator("main a[href*='/desk/p/'][href*='/advisories/']").first.get_attribute("href")
    assert editor
    _visit(page, audit, base + editor, "advisory editor")
    _visit(page, audit, base + editor + "preview/", "advisory preview")
    _visit(page, audit, base + editor + "diff/", "advisory diff")


def _desk_pages(page: Page, audit: Audit, base: str) -> None:
    _visit(page, audit, base + "/desk/", "desk")
    _visit(page, audit, base + "/desk/reports/", "queue")
    _visit(page, audit, base + "/desk/reports/?waiting=acknowledgement&sort=severity", "queue filtered")
    _case_pages(page, audit, base, [1, 2, 3, 4, 5])
    _advisory_desk(page, audit, base)
    for path, name in (
        (f"/desk/p/{PROJECT}/releases/", "releases"),
        (f"/desk/p/{PROJECT}/policy/", "policy editor"),
        (f"/desk/p/{PROJECT}/policy/?section=disclosure", "policy editor section"),
        (f"/desk/p/{PROJECT}/policy/diff/", "policy diff"),
        ("/desk/metrics/", "metrics"),
        (f"/desk/p/{PROJECT}/metrics/", "project metrics"),
        (f"/desk/p/{PROJECT}/distributors/", "distributors desk"),
        (f"/desk/p/{PROJECT}/webhooks/", "webhooks"),
        (f"/desk/p/{PROJECT}/needs-evidence/", "needs evidence"),
        ("/desk/outbox/", "outbox"),
        ("/accounts/", "account"),
        ("/desk/teams/", "teams"),
        (f"/desk/p/{PROJECT}/team/", "team of a project"),
    ):
        _visit(page, audit, base + path, name)


def _saved_replies(page: Page, audit: Audit, base: str) -> None:
    """The saved replies: empty, a refused one, the list, its editor, and the picker under a reply."""
    _visit(page, audit, f"{base}/desk/p/{PROJECT}/saved-replies/", "saved replies")
    page.get_by_label("Name").fill("Thanks")
    page.get_by_label("Text").fill("Thank you, {reporter}.")
    _arrive(page, page.get_by_role("button", name="Create"))
    audit.check(page, "saved reply refused")
    page.get_by_label("Text").fill("Thank you, {reporter_name}, for report #{report_number}.")
    _arrive(page, page.get_by_role("button", name="Create"))
    audit.check(page, "saved replies with one")
    _arrive(page, page.get_by_role("link", name="Thanks"))
    audit.check(page, "saved reply editor")
    page.goto(f"{base}/desk/p/{PROJECT}/reports/5/edit/message/")
    page.get_by_role("button", name="Insert").click()
    expect(page.get_by_label("Write")).to_have_value(re.compile(r"^Thank you, .*, for report #5\.$"))
    audit.check(page, "saved reply inserted")


def _sign_in(page: Page, audit: Audit, server: LiveServer, email: str, password: str) -> None:
    """A first sign-in: password, the authenticator's setup, the recovery codes."""

    def at_step(step: str) -> None:
        if step in SIGN_IN_PAGES:
            audit.check(page, SIGN_IN_PAGES[step])

    first_sign_in(page, server, email, password, at_step=at_step, landing=None)


def _apply_to_the_list(page: Page, audit: Audit, base: str, public_key: str) -> None:
    page.goto(f"{base}/p/{PROJECT}/distributors/apply/")
    page.locator("#organisation").fill("Distro A")
    page.locator("#website").fill("https://distro-a.test")
    for answer in page.locator("textarea[name^='criterion-']").all():
        answer.fill("We meet it: see our advisories.")
    page.locator("#name").fill("Ada Distro")
    page.locator("#email").fill(DISTRIBUTOR)
    page.locator("#public_key").fill(public_key)
    page.locator("input[name='accept']").check()
    _arrive(page, page.get_by_role("button", name="Apply"))
    audit.check(page, "distributor application sent")


def _welcome_link(server: LiveServer) -> str:
    """The invitation's one-time link, made with the server's own secret: the mail carrying it is
    encrypted to the member's key."""
    script = (
        "import django; django.setup()\n"
        "from django.contrib.auth.tokens import default_token_generator as tokens\n"
        "from django.utils.http import urlsafe_base64_encode\n"
        "from vulndesk.accounts.models import User\n"
        f"user = User.objects.get(email={DISTRIBUTOR!r})\n"
        "print(f'/distributor/welcome/{urlsafe_base64_encode(str(user.pk).encode())}/{tokens.make_token(user)}/')"
    )
    env = {**server.env, "DJANGO_SETTINGS_MODULE": "vulndesk.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def _a_case_moves_on(page: Page, audit: Audit, base: str, tracking: str) -> None:
    """The reported case acknowledged, answered, confirmed and given a draft advisory; what the
    reporter then reads."""
    case = f"{base}/desk/p/{PROJECT}/reports/5/"
    page.goto(case)
    page.get_by_role("button", name="Acknowledge").click()
    # The form posts and the page comes back: check the page that came back, not the one leaving.
    expect(page.get_by_text("Acknowledged: the reporter has been told.")).to_be_visible()
    audit.check(page, "case acknowledged")
    page.goto(case + "edit/message/")
    page.get_by_label("Write").fill("Thanks, we reproduced it on 0.3.")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_text("Message sent to the reporter.")).to_be_visible()
    page.goto(case + "edit/decision/")
    page.get_by_label("a vulnerability (valid)").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded; the reporter has been told.")).to_be_visible()
    audit.check(page, "case confirmed, with a conversation")
    draft_advisory(page, ATM_IDENTIFIER)
    audit.check(page, "draft advisory editor")
    _arrive(page, page.get_by_role("link", name="Preview the public page"))
    audit.check(page, "draft advisory preview")
    _visit(page, audit, case, "case with a draft advisory")
    _visit(page, audit, tracking, "tracking page after triage")


def _distributor_pages(chromium: Browser, team: Page, audit: Audit, server: LiveServer) -> None:
    """An organisation applies, the team approves it, its member sets a password and opens the portal."""
    member = chromium.new_page(viewport=WIDE)
    with _person("Ada Distro", DISTRIBUTOR) as ada:
        _apply_to_the_list(member, audit, server.url, ada.public_key())
    team.goto(f"{server.url}/desk/p/{PROJECT}/distributors/")
    audit.check(team, "distributors desk with an application")
    team.get_by_role("button", name="Approve").click()
    expect(team.locator(".message").first).to_contain_text("is on the list")
    audit.check(team, "distributors desk with a member")
    _visit(member, audit, server.url + _welcome_link(server), "invitation")
    member.locator("#id_new_password1").fill(DISTRIBUTOR_PASSWORD)
    member.locator("#id_new_password2").fill(DISTRIBUTOR_PASSWORD)
    member.get_by_role("button", name="Set password").click()
    _sign_in(member, audit, server, DISTRIBUTOR, DISTRIBUTOR_PASSWORD)
    _visit(member, audit, server.url + "/distributor/", "distributor portal")
    expect(member.get_by_role("heading", name="LLM Agentic Tool Mesh · Distro A")).to_be_visible()
    member.close()


def _duplicate_suggestions(page: Page, audit: Audit, server: LiveServer) -> None:
    """A report repeating an earlier one, once the worker ranked it: its suggestions and the chip."""
    import time  # noqa: PLC0415

    from .test_duplicate_suggestions import ORIGINAL, SAME_FLAW  # noqa: PLC0415

    numbers = [
        send_report(server, PROJECT, **report, reporter_email="sam@finder.test")["number"]
        for report in (ORIGINAL, SAME_FLAW)
    ]
    case = f"{server.url}/desk/p/{PROJECT}/reports/{numbers[1]}/"
    deadline = time.monotonic() + 120
    while not page.goto(case) or not page.locator("details#duplicates").count():
        assert time.monotonic() < deadline, "the worker stored no duplicate suggestions"
        time.sleep(0.5)
    audit.check(page, "case with duplicate suggestions")
    _visit(page, audit, f"{server.url}/desk/reports/?project={PROJECT}", "queue with a possible duplicate")


def test_axe_finds_no_violation_on_any_page(chromium: Browser, server: LiveServer, audit: Audit) -> None:
    page = chromium.new_page(viewport=WIDE)
    _public_pages(page, audit, server.url)
    tracking = _report_and_track(page, audit, server.url)
    _sign_in(page, audit, server, server.admin_email, server.admin_password)
    page.wait_for_url("**/desk/")
    _desk_pages(page, audit, server.url)
    _saved_replies(page, audit, server.url)
    _a_case_moves_on(page, audit, server.url, tracking)
    _distributor_pages(chromium, page, audit, server)
    _duplicate_suggestions(page, audit, server)
    page.close()
    assert len(audit.pages) > 60
    audit.assert_clean()


def test_the_audit_names_a_faint_text_and_an_unlabelled_field(
    chromium: Browser, server: LiveServer, audit: Audit
) -> None:
    """The check above can fail: the same audit on a page given two faults names both."""
    page = chromium.new_page(viewport=WIDE)
    page.goto(server.url + "/")
    page.evaluate(
        """() => {
        const faint = document.createElement('p');
        faint.textContent = 'Faint words';
        faint.style.color = '#c8c8c8';
        const field = document.createElement('input');
        field.type = 'text';
        document.querySelector('main').append(faint, field);
    }"""
    )
    audit.check(page, "home with two faults")
    page.close()
    found = "\n".join(audit.violations["home with two faults at 1280 px (" + server.url + "/)"])
    assert "color-contrast (serious)" in found
    assert "label (critical)" in found
