"""The worker's part in publication: a task queued for the scheduled moment, and the sweep's check.

The task is stored in the database (django-tasks-db), so a worker that was down at the moment runs
it when it starts again; ``do_publish_advisory`` publishing only once makes a second run harmless.
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from vulndesk.advisories.actions import publish_due


@task()
def publish_scheduled() -> str:
    return f"{publish_due()} advisories published"


def queue_publication(at: dt.datetime) -> None:
    publish_scheduled.using(run_after=at).enqueue()
