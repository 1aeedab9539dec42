"""The distributors list: organisations that ship a project to their users, and the people in them.

An organisation applies through the public form (``/p/<slug>/distributors/apply/``), is vouched
for by a member of another organisation on the list, and is approved or declined by the team.
The team then shares a case with chosen organisations (``CaseShare``): their members get notices
encrypted to their own OpenPGP keys and, once they accept that case's embargo, read it in the
distributor portal. Whatever they read is audited.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from vulndesk.crypto import SealedColumns
from vulndesk.distributors.names import unusual_characters


class OrganisationState(models.TextChoices):
    APPLIED = "applied", "Applied, waiting for the team"
    APPROVED = "approved", "On the list"
    DECLINED = "declined", "Declined"
    REMOVED = "removed", "Removed from the list"


class Organisation(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="distributors")
    name = models.CharField(max_length=200)
    website = models.URLField(max_length=300)
    state = models.CharField(
        max_length=10, choices=OrganisationState.choices, default=OrganisationState.APPLIED
    )
    # One answer per membership criterion of the policy, in its order: [{"criterion", "answer"}].
    criteria_answers = models.JSONField(default=list)
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True, help_text="Why it was declined or removed.")
    # The application's contact address, when it already has an account here: the applicant was
    # not told (the form says the same to everyone), and the team adds that person itself.
    contact_with_account = models.EmailField(max_length=254, blank=True)
    # The name as a reader sees it (names.comparison_key): look-alikes share it.
    name_key = models.CharField(max_length=1000, blank=True)
    # An application whose name looks like an organisation that applied before or is on the list.
    # The applicant is not told (the form answers everyone alike); the team sees it and decides.
    resembles = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering: ClassVar = ["name"]
        indexes: ClassVar = [models.Index(fields=["project", "name_key"], name="organisation_name_key")]

    def __str__(self) -> str:
        return self.name

    @property
    def unusual_characters(self) -> list[str]:
        return unusual_characters(self.name)


class MemberState(models.TextChoices):
    INVITED = "invited", "Invited, no password yet"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REMOVED = "removed", "Removed"


class DistributorMember(models.Model):
    """A person on the list for their organisation, with the key every notice is encrypted to."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="distributor_memberships"
    )
    public_key = models.TextField(help_text="Armored OpenPGP public key.")
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=MemberState.choices, default=MemberState.INVITED)
    # The embargo policy this person accepted: its version and when (the seed's criterion 6).
    embargo_policy_version = models.CharField(max_length=40, blank=True)
    embargo_policy_accepted_at = models.DateTimeField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["organisation", "added_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "user"], name="one_member_row_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.user} for {self.organisation}"


def needs_policy_acceptance(member: DistributorMember) -> bool:
    """The list's embargo policy changed (or was never accepted): the member accepts it again first."""
    current = member.organisation.project.policy.distributors.embargo_policy_version
    return member.embargo_policy_version != current


class Vouch(models.Model):
    """A member of an organisation already on the list speaks for an applicant (criterion 7)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="vouches")
    member = models.ForeignKey(DistributorMember, on_delete=models.CASCADE, related_name="vouches_given")
    statement = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organisation", "member"], name="one_vouch_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member} vouches for {self.organisation}"


class CaseShare(SealedColumns, models.Model):
    """The team decided this organisation needs to know about this case before disclosure."""

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="distributor_shares")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="shares")
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)
    # What the team wrote for distributors about the case (sealed: it is embargoed).
    sealed_summary = models.TextField()
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    # The end the last notice named: a notice goes out again when the end moves.
    told_end_at = models.DateTimeField(null=True, blank=True)
    # The final notice is due distributor_final_notice_hours before the end it was sent for.
    final_notice_sent_at = models.DateTimeField(null=True, blank=True)
    final_notice_for_end = models.DateTimeField(null=True, blank=True)
    ended_notice_sent_at = models.DateTimeField(null=True, blank=True)

    sealed_contexts: ClassVar = {
        "sealed_summary": "caseshare:{report_id}:{organisation_id}",
    }

    class Meta:
        ordering: ClassVar = ["shared_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["report", "organisation"], name="one_share_per_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.report} shared with {self.organisation}"

    @property
    def summary(self) -> str:
        return self.opened("sealed_summary")

    @summary.setter
    def summary(self, value: str) -> None:
        self.sealed_summary = self.sealed("sealed_summary", value)


class SharedAttachment(models.Model):
    """The team chose to give this organisation this attachment of a case it shares (a proof of
    concept, a patch): a choice per case and per organisation, never the whole report."""

    share = models.ForeignKey(CaseShare, on_delete=models.CASCADE, related_name="shared_attachments")
    attachment = models.ForeignKey("intake.ReportAttachment", on_delete=models.CASCADE, related_name="+")
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["shared_at", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["share", "attachment"], name="one_shared_attachment_per_share"),
        ]

    def __str__(self) -> str:
        return f"attachment {self.attachment_id} shared with {self.share.organisation}"


class CaseEmbargoAcceptance(models.Model):
    """A member accepted this case's embargo: only then does the portal show its contents."""

    share = models.ForeignKey(CaseShare, on_delete=models.CASCADE, related_name="acceptances")
    member = models.ForeignKey(DistributorMember, on_delete=models.CASCADE, related_name="+")
    accepted_at = models.DateTimeField(default=timezone.now)
    embargo_ends_at = models.DateTimeField(null=True, blank=True, help_text="The end they accepted.")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["share", "member"], name="one_acceptance_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member} accepted the embargo of {self.share.report}"


class ProductState(models.TextChoices):
    # The four statuses of VEX (CISA's minimum requirements), in words a distributor uses.
    UNDER_INVESTIGATION = "under_investigation", "Under investigation"
    AFFECTED = "affected", "Affected"
    NOT_AFFECTED = "not_affected", "Not affected"
    FIXED = "fixed", "Fixed"


class Justification(models.TextChoices):
    """The five justifications VEX allows for "not affected" (CSAF flags, OpenVEX justifications)."""

    COMPONENT_NOT_PRESENT = "component_not_present", "The vulnerable component is not present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present", "The vulnerable code is not present"
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = (
        "vulnerable_code_not_in_execute_path",
        "The vulnerable code is never run",
    )
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "An attacker cannot control the vulnerable code",
    )
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist", "Mitigations already in place"


class ProductStatus(models.Model):
    """A distributor's own product and how the case touches it."""

    share = models.ForeignKey(CaseShare, on_delete=models.CASCADE, related_name="product_statuses")
    product = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=ProductState.choices)
    justification = models.CharField(max_length=60, choices=Justification.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["product"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["share", "product"], name="one_status_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.get_status_display()}"


class ReportedBy(models.TextChoices):
    TEAM = "team", "The security team"
    DISTRIBUTOR = "distributor", "A distributor"
    REPORTER = "reporter", "The reporter"


class Leak(SealedColumns, models.Model):
    """Embargoed information reached someone it should not have. What leaked is sealed."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="leaks")
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leaks",
        help_text="The organisation it came from, once known; it counts toward removal.",
    )
    reported_by_kind = models.CharField(max_length=12, choices=ReportedBy.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sealed_what = models.TextField()
    sealed_to_whom = models.TextField()
    happened_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    sealed_contexts: ClassVar = {
        "sealed_what": "leak:{uid}:what",
        "sealed_to_whom": "leak:{uid}:to_whom",
    }

    class Meta:
        ordering: ClassVar = ["-recorded_at"]

    def __str__(self) -> str:
        return f"leak on {self.report}"

    @property
    def what(self) -> str:
        return self.opened("sealed_what")

    @what.setter
    def what(self, value: str) -> None:
        self.sealed_what = self.sealed("sealed_what", value)

    @property
    def to_whom(self) -> str:
        return self.opened("sealed_to_whom")

    @to_whom.setter
    def to_whom(self, value: str) -> None:
        self.sealed_to_whom = self.sealed("sealed_to_whom", value)
