"""Runs inside the server's environment: renders every seeded advisory in every format."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings

from vulndesk.advisories.documents import document
from vulndesk.advisories.exports.context import ExportContext
from vulndesk.advisories.exports.render import FORMATS, render
from vulndesk.advisories.models import AdvisoryRevision
from vulndesk.cases.actions.affected import parse_range
from vulndesk.projects.releases import parse_version


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    revisions = AdvisoryRevision.objects.filter(advisory__identifier__startswith="x_BENCH-").select_related(
        "advisory__project"
    )[: args.count]
    documents = [document(r) for r in revisions]
    context = ExportContext(base_url=settings.BASE_URL.rstrip("/"))
    started = time.perf_counter()
    for doc in documents:
        json.dumps(dataclasses.asdict(doc), default=str, sort_keys=True)
    baseline = len(documents) / (time.perf_counter() - started)
    formats = {}
    for name in FORMATS:
        started = time.perf_counter()
        for doc in documents:
            render(name, doc, context)
        formats[name] = len(documents) / (time.perf_counter() - started)
    ranges = [
        (a.package, parse_range(a.package, a.affected), doc.identifier)
        for doc in documents
        for a in doc.affected
    ]
    started = time.perf_counter()
    package, version = "pkg:pypi/bench-7", parse_version("pkg:pypi/bench-7", "1.7.2")
    matches = [ident for pkg, vers, ident in ranges if pkg == package and version in vers]
    query_ms = (time.perf_counter() - started) * 1000
    print(
        json.dumps(
            {"baseline": baseline, "formats": formats, "affected_query_ms": query_ms, "matches": len(matches)}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
