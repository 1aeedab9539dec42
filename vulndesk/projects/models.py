"""A project and its security policy."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from vulndesk.projects.policy import Policy

if TYPE_CHECKING:
    from vulndesk.accounts.models import User


class Project(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    # The validated policy, as Policy.as_json(); always written through do_* actions.
    policy_document = models.JSONField()
    policy_version = models.PositiveIntegerField(default=1)
    is_example = models.BooleanField(default=False, help_text="Loaded as a demonstration by `make run`.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def policy(self) -> Policy:
        return Policy.model_validate(self.policy_document)

    def team_people(self) -> models.QuerySet[User]:
        """Who hears of this project's reports: its active team, or, while it has none, the
        administrators, so that a report never reaches nobody."""
        people = get_user_model().objects
        team = people.filter(memberships__project=self, is_active=True)
        if team.exists():
            return team.order_by("email")
        return people.filter(is_admin=True, is_active=True).order_by("email")

    def team_recipients(self) -> list[str]:
        """The addresses of ``team_people``: every team notice goes to these."""
        return sorted(self.team_people().values_list("email", flat=True))

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self.__dict__.pop("policy", None)


class PolicyRevision(models.Model):
    """Every version a project's policy has had, so a change can be read back and compared."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="policy_revisions")
    version = models.PositiveIntegerField()
    document = models.JSONField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-version"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "version"], name="one_revision_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.project} policy v{self.version}"


class Release(models.Model):
    """A version a project shipped: the rows of the backport matrix and the CSAF product tree.

    ``package`` is a package URL without a version (``pkg:pypi/llmesh``), so one project can ship
    several packages; ``branch`` is the release branch fixes are backported to (``release-1.4``).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    package = models.CharField(max_length=300)
    version = models.CharField(max_length=100)
    branch = models.CharField(max_length=200, blank=True)
    # The full commit hash the release was tagged at: OSV names versions of a package without a
    # registry (a GitHub repository) by commits, in GIT ranges.
    commit = models.CharField(max_length=64, blank=True)
    released_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["project", "package", "-released_on", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["project", "package", "version"], name="one_release_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.package}@{self.version}"
