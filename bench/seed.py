"""Bulk data for the benchmarks, written the way the product stores it (sealed, indexed), and the
ORM baselines. Run inside the server's environment: ``python -m bench.seed reports|advisories|orm``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.db import transaction
from django.utils import timezone

from vulndesk.accounts.models import User
from vulndesk.advisories.models import Advisory, AdvisoryRevision, AdvisoryState
from vulndesk.cases.models import Author, Message, MetricsSnapshot, Triage, Via, Visibility
from vulndesk.cases.queue import QueueFilters, queue_reports
from vulndesk.cases.queue_entries import refresh_open_reports
from vulndesk.desk.my_work import report_rows
from vulndesk.intake.access import reports_visible_to
from vulndesk.intake.actions import digest
from vulndesk.intake.models import Channel, Report, ReportSearchTerm
from vulndesk.intake.search import search, term, words
from vulndesk.projects.models import Project

BATCH = 2_000
WORDS = [
    "prompt",
    "injection",
    "tool",
    "shell",
    "planner",
    "token",
    "leak",
    "eval",
    "sandbox",
    "escape",
    "model",
    "server",
    "cache",
]
STATES = ["received", "valid", "accepted", "invalid", "deferred", "closed"]
SEARCH_WORD = "zanzibar"  # in one report in a thousand: what the search benchmark looks for


def _report(project: Project, number: int) -> tuple[Report, list[str]]:
    report = Report(
        project=project,
        number=number,
        channel=Channel.API,
        rm_state=random.choice(STATES),  # test data, not security
        tracking_digest=digest(secrets.token_urlsafe(32)),
        # Spread over a year, so deadlines range from long overdue to not yet due.
        received_at=timezone.now() - dt.timedelta(minutes=random.randrange(60 * 24 * 365)),
    )
    title = " ".join(random.choices(WORDS, k=5))
    body = " ".join(random.choices(WORDS, k=60)) + (f" {SEARCH_WORD}" if number % 1000 == 7 else "")
    report.title = title
    report.fields = {"description": body}
    report.reporter = {"name": "", "email": "", "anonymous": True, "credit": "anonymous"}
    return report, [title, body]


def seed_reports(count: int, messages: int, big_case_messages: int) -> dict[str, float]:
    started = time.monotonic()
    projects = list(Project.objects.order_by("pk"))
    first = {
        p.pk: (
            Report.objects.filter(project=p).order_by("-number").values_list("number", flat=True).first() or 0
        )
        for p in projects
    }
    created: list[Report] = []
    for start in range(0, count, BATCH):
        batch, texts = [], []
        for n in range(start, min(count, start + BATCH)):
            project = projects[n % len(projects)]
            first[project.pk] += 1
            report, text = _report(project, first[project.pk])
            batch.append(report)
            texts.append(text)
        with transaction.atomic():
            Report.objects.bulk_create(batch)
            saved = list(Report.objects.filter(uid__in=[r.uid for r in batch]).only("pk", "uid"))
            by_uid = {r.uid: r.pk for r in saved}
            terms = [
                ReportSearchTerm(report_id=by_uid[r.uid], term=t)
                for r, text in zip(batch, texts, strict=True)
                for t in sorted({term(w) for part in text for w in words(part)})
            ]
            ReportSearchTerm.objects.bulk_create(terms)
        created += saved
    _seed_messages(created, messages, big_case_messages)
    _seed_cases(created)
    # The queue entries, computed by the product's own code, as its sweep would.
    refresh_open_reports(timezone.now())
    return {"seconds": time.monotonic() - started}


def _seed_cases(reports: list[Report]) -> None:
    """A triage record, with a rating, for a third of the reports; one in ten owned by the admin."""
    owner = User.objects.filter(is_admin=True).first()
    ratings = ["Critical", "High", "Medium", "Low"]
    cases = [
        Triage(report_id=r.pk, rating=random.choice(ratings), owner=owner if r.pk % 10 == 0 else None)
        for r in reports
        if r.pk % 3 == 0
    ]
    for start in range(0, len(cases), BATCH):
        Triage.objects.bulk_create(cases[start : start + BATCH])


def _seed_messages(reports: list[Report], count: int, big_case: int) -> None:
    if not reports:
        return
    targets = [reports[0].pk] * big_case + [
        random.choice(reports).pk for _ in range(max(0, count - big_case))
    ]
    for start in range(0, len(targets), BATCH):
        batch = []
        for report_id in targets[start : start + BATCH]:
            message = Message(
                uid=uuid.uuid4(),
                report_id=report_id,
                author_kind=Author.TEAM,
                via=Via.WEB,
                visibility=Visibility.SHARED,
            )
            # Through the model, as the product writes it: sealed text and its rendered HTML.
            message.body = " ".join(random.choices(WORDS, k=30))
            batch.append(message)
        Message.objects.bulk_create(batch)
    print(
        json.dumps(
            {
                "big_case": Report.objects.get(pk=reports[0].pk).number,
                "big_case_project": reports[0].project.slug,
            }
        )
    )


def seed_advisories(count: int) -> dict[str, float]:
    """Published advisories with sealed revisions, as publication leaves them."""
    started = time.monotonic()
    project = Project.objects.get(slug="agentic-tool-mesh")
    now = timezone.now()
    for start in range(0, count, BATCH):
        advisories = [
            Advisory(
                project=project,
                identifier=f"x_BENCH-2026-{n:06d}",
                year=1999,
                sequence=n + 1,
                state=AdvisoryState.PUBLISHED,
                published_at=now,
                modified_at=now,
                public_title=f"Bench advisory {n}",
                public_summary="A summary.",
            )
            for n in range(start, min(count, start + BATCH))
        ]
        with transaction.atomic():
            Advisory.objects.bulk_create(advisories)
            saved = Advisory.objects.filter(identifier__in=[a.identifier for a in advisories])
            revisions = []
            for advisory in saved:
                n = int(advisory.identifier.rsplit("-", 1)[1])
                revision = AdvisoryRevision(uid=uuid.uuid4(), advisory=advisory, number=1, published_at=now)
                revision.content = _content(n)
                revisions.append(revision)
            AdvisoryRevision.objects.bulk_create(revisions)
    return {"seconds": time.monotonic() - started}


def _content(n: int) -> dict[str, object]:
    minor = n % 20
    return {
        "title": f"Bench advisory {n}",
        "summary": "A summary.",
        "details": "Details in **markdown**.",
        "affected": [
            {"package": f"pkg:pypi/bench-{n % 500}", "affected": f"vers:pypi/>=1.{minor}.0|<1.{minor}.5"}
        ],
        "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
        "cvss40_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N",
        "cwes": ["CWE-95"],
        "credits": [{"name": "A Finder", "type": "finder"}],
        "mitigations": "Turn it off.",
        "references": [{"url": "https://example.org/fix", "type": "FIX"}],
    }


def orm_baselines(rounds: int, big_case: int, big_case_project: str) -> dict[str, list[float]]:
    """The queries behind the desk's pages, run directly with the ORM: what the pages cannot beat."""
    admin = User.objects.filter(is_admin=True).first()
    assert admin is not None
    queries: dict[str, Callable[[], object]] = {
        # The desk's default view: open reports, quarantine apart, next deadline first.
        "queue": lambda: list(queue_reports(admin, QueueFilters(), timezone.now())[:50]),
        "queue_severity": lambda: list(
            queue_reports(admin, QueueFilters(sort="severity"), timezone.now())[:50]
        ),
        "queue_overdue": lambda: list(queue_reports(admin, QueueFilters(due="overdue"), timezone.now())[:50]),
        # The desk home's counts, each the queue's query behind its link.
        "desk_home": lambda: report_rows(admin, timezone.now()),
        "queue_filtered": lambda: list(
            reports_visible_to(admin)
            .filter(project__slug="llm-d", rm_state="accepted")
            .order_by("-received_at")[:50]
        ),
        "case_page": lambda: [
            m.body
            for m in Message.objects.filter(report__project__slug=big_case_project, report__number=big_case)
        ],
        "search": lambda: list(search(reports_visible_to(admin), SEARCH_WORD)[:100]),
        # The metrics page reads the worker's snapshot of the instance: one row.
        "metrics": lambda: MetricsSnapshot.objects.filter(scope="instance").values_list("figures").first(),
    }
    timings: dict[str, list[float]] = {}
    for name, query in queries.items():
        timings[name] = []
        for _ in range(rounds):
            started = time.perf_counter()
            query()
            timings[name].append(time.perf_counter() - started)
    return timings


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed")
    sub = parser.add_subparsers(dest="command", required=True)
    reports = sub.add_parser("reports")
    reports.add_argument("--reports", type=int, required=True)
    reports.add_argument("--messages", type=int, required=True)
    reports.add_argument("--big-case", type=int, default=500)
    advisories = sub.add_parser("advisories")
    advisories.add_argument("--count", type=int, required=True)
    orm = sub.add_parser("orm")
    orm.add_argument("--rounds", type=int, default=20)
    orm.add_argument("--big-case", type=int, required=True)
    orm.add_argument("--big-case-project", required=True)
    args = parser.parse_args(argv)
    if args.command == "reports":
        seed_reports(args.reports, args.messages, args.big_case)
    elif args.command == "advisories":
        seed_advisories(args.count)
    else:
        print(json.dumps(orm_baselines(args.rounds, args.big_case, args.big_case_project)))


if __name__ == "__main__":
    main(sys.argv[1:])
