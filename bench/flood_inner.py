"""Runs inside the server's environment after the flood: counts the junk the database holds, and
finds the real report on the queue sorted by evidence, as a signed-in admin's page shows it."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.test import Client

from vulndesk.accounts.models import User
from vulndesk.accounts.views import SECOND_FACTOR_AT
from vulndesk.intake.actions import reporter_index
from vulndesk.intake.models import Report

JUNK_SENDERS = 100  # as flood_bench.JUNK_SENDERS


def _queue_numbers() -> list[int]:
    """The report numbers on the first page of ``/desk/reports/?sort=evidence``, in order."""
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.filter(is_admin=True).order_by("pk")[0])
    session = client.session
    session[SECOND_FACTOR_AT] = int(time.time())
    session.save()
    page = client.get("/desk/reports/?sort=evidence&project=llm-d").content.decode()
    found = re.findall(r'href="/desk/p/llm-d/reports/(\d+)/"', page)
    return [int(n) for n in dict.fromkeys(found)]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, required=True)
    args = parser.parse_args(argv)
    junk = Report.objects.filter(
        reporter_index__in=[reporter_index(f"slop{n}@slop.test") for n in range(JUNK_SENDERS)]
    )
    numbers = _queue_numbers()
    position = numbers.index(args.number) + 1 if args.number in numbers else 0
    print(
        json.dumps(
            {
                "junk_in_database": junk.count(),
                "junk_quarantined": junk.filter(quarantined=True).count(),
                "on_first_page": bool(position),
                "position": position,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
