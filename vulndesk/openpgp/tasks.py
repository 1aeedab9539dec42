"""The worker's part in OpenPGP: each example project gets its key pair after `vulndesk setup`.

Generating a key pair takes gpg a moment per project; in the background the first start stays
quick, and the task row is written with the project, so a worker that is not running yet makes the
keys when it starts. Until then security.txt is served unsigned and without an Encryption line,
exactly as for a project that has no key.
"""

from __future__ import annotations

from django_tasks import task

from vulndesk.openpgp.actions import ProjectKeyError, do_generate_project_key
from vulndesk.openpgp.models import ProjectKey
from vulndesk.projects.models import Project


@task()
def generate_example_project_key(project_id: int) -> str:
    project = Project.objects.filter(pk=project_id, is_example=True).first()
    if project is None:
        return "no such example project"
    if ProjectKey.objects.filter(project=project).exists():
        return f"{project.slug} already has a key"
    try:
        key = do_generate_project_key(project, acting_user=None)
    except ProjectKeyError as exc:  # another run was first, or the policy names another key
        return f"{project.slug}: {exc}"
    return f"{project.slug}: key {key.fingerprint}"


def queue_example_project_key(project: Project) -> None:
    generate_example_project_key.enqueue(project.pk)
