"""Joining and leaving the distributors list: applications, vouches, the team's decision, members.

The seven criteria and the embargo policy come from the project's policy (``[distributors]``).
Every change is audited; the applicant and the team hear of each step by mail, and mail to a
member is encrypted to their key like everything else they get from the list.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from vulndesk.accounts.models import User
from vulndesk.audit.actions import record_event
from vulndesk.distributors import emails, notices
from vulndesk.distributors.actions import DistributorError
from vulndesk.distributors.keys import MemberKeyError, checked_member_key
from vulndesk.distributors.models import (
    DistributorMember,
    MemberState,
    Organisation,
    OrganisationState,
    Vouch,
)
from vulndesk.distributors.names import comparison_key
from vulndesk.intake.throttle import Throttled, check_and_count
from vulndesk.notify.actions import queue_email
from vulndesk.notify.models import NoticeKind
from vulndesk.notify.preferences import queue_team_notice

if TYPE_CHECKING:
    from vulndesk.projects.models import Project

MAX_ANSWER = 2000
MAX_NAME = 200
MAX_ADDRESS = 254  # RFC 5321's limit on a path
MAX_REASON = 2000
# Applications a network address, or a contact address, can send in an hour (the form is public).
APPLICATIONS_PER_HOUR = 5


@dataclass(frozen=True)
class Application:
    organisation: str
    website: str
    name: str
    email: str
    public_key: str
    answers: list[str]
    accepts_embargo_policy: bool


def check_list_open(project: Project) -> None:
    if not project.policy.distributors.enabled:
        raise DistributorError(f"{project.name} has no distributors list")


def do_apply(
    project: Project, application: Application, *, acting_user: User | None, client_address: str = ""
) -> Organisation:
    """An organisation asks to join, answering each membership criterion of the policy.

    The answer is the same whether or not the contact address has an account here, so the form
    tells nobody who has one; such an application arrives without its contact, for the team to add.
    """
    check_list_open(project)
    rules = project.policy.distributors
    answers = _checked_answers(rules.membership_criteria, application.answers)
    if not application.accepts_embargo_policy:
        raise DistributorError(
            "members must accept the embargo policy (a request for membership is acceptance)"
        )
    name = application.organisation.strip()
    if not name or len(name) > MAX_NAME:
        raise DistributorError("the organisation's name is required (at most 200 characters)")
    if _has_control_characters(name):
        raise DistributorError("the organisation's name cannot hold control characters such as line breaks")
    if not application.website.startswith("https://"):
        raise DistributorError("the organisation's website must be an https:// address")
    key, fingerprint = _key(application.public_key)
    address = _checked_address(application.email)
    if _has_control_characters(application.name):
        raise DistributorError("a person's name cannot hold control characters such as line breaks")
    _throttle_applications(client_address, address)
    try:
        return _store_application(
            project,
            application,
            name=name,
            answers=answers,
            address=address,
            key=(key, fingerprint),
            acting_user=acting_user,
        )
    except IntegrityError:
        # Two applications at once from the same new contact address.
        raise DistributorError("an application with this contact address arrived at the same time") from None


def _store_application(
    project: Project,
    application: Application,
    *,
    name: str,
    answers: list[dict[str, str]],
    address: str,
    key: tuple[str, str],
    acting_user: User | None,
) -> Organisation:
    """The organisation, and its contact person unless the address already has an account."""
    key_text, fingerprint = key
    key_of_name = comparison_key(name)
    with transaction.atomic():
        # The answer is the same for a name already there or a look-alike of one, so the form does
        # not tell who is on the list; the team sees the resemblance and decides.
        resembles = (
            Organisation.objects.filter(project=project, name_key=key_of_name).order_by("applied_at").first()
        )
        # Nobody can attach someone else's account to their organisation by applying with it.
        has_account = User.objects.filter(email__iexact=address).exists()
        organisation = Organisation.objects.create(
            project=project,
            name=name,
            name_key=key_of_name,
            resembles=resembles,
            website=application.website[:300],
            criteria_answers=answers,
            contact_with_account=address if has_account else "",
        )
        if not has_account:
            member = _new_member(organisation, address, application.name, key_text, fingerprint)
            _accept_policy(member)
        record_event(
            "distributors.applied",
            acting_user=acting_user,
            project=project,
            target=organisation,
            details={
                "organisation": name,
                "fingerprint": fingerprint,
                "contact_has_account": has_account,
                "resembles": resembles.pk if resembles else None,
            },
        )
        _tell_team(project, emails.application_received(organisation))
    return organisation


def _throttle_applications(client_address: str, address: str) -> None:
    try:
        check_and_count("apply-ip", client_address, APPLICATIONS_PER_HOUR)
        check_and_count("apply-contact", address, APPLICATIONS_PER_HOUR)
    except Throttled as exc:
        raise DistributorError(
            f"too many applications from your {exc.who} in the last hour: "
            f"try again in {exc.retry_after_seconds // 60 + 1} minutes"
        ) from None


def _checked_address(email: str) -> str:
    address = email.strip().lower()
    if "@" not in address or len(address) > MAX_ADDRESS or any(c.isspace() for c in address):
        raise DistributorError("a member needs one email address")
    return address


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in text)


def _checked_answers(criteria: list[str], answers: list[str]) -> list[dict[str, str]]:
    if len(answers) != len(criteria):
        raise DistributorError(f"answer each of the {len(criteria)} membership criteria")
    checked = []
    for number, (criterion, answer) in enumerate(zip(criteria, answers, strict=True), start=1):
        text = answer.strip()
        if not text:
            raise DistributorError(f"criterion {number} has no answer: {criterion}")
        if len(text) > MAX_ANSWER:
            raise DistributorError(f"the answer to criterion {number} is longer than {MAX_ANSWER} characters")
        checked.append({"criterion": criterion, "answer": text})
    return checked


def _key(armored: str) -> tuple[str, str]:
    try:
        return checked_member_key(armored)
    except MemberKeyError as exc:
        raise DistributorError(f"OpenPGP key: {exc}") from None


def _new_member(
    organisation: Organisation, email: str, name: str, key: str, fingerprint: str
) -> DistributorMember:
    address = _checked_address(email)
    if _has_control_characters(name):
        raise DistributorError("a person's name cannot hold control characters such as line breaks")
    user = User.objects.filter(email__iexact=address).first()
    if user is None:
        # No password until the invitation is used: nobody can sign in as an applicant.
        user = User.objects.create_user(address, None, display_name=name.strip()[:200])
    if user.is_admin or user.memberships.exists():
        raise DistributorError("a team member or admin cannot also be a distributor member")
    if DistributorMember.objects.filter(organisation=organisation, user=user).exists():
        raise DistributorError(f"{address} is already a member of {organisation.name}")
    return DistributorMember.objects.create(
        organisation=organisation, user=user, public_key=key, fingerprint=fingerprint
    )


def _accept_policy(member: DistributorMember) -> None:
    rules = member.organisation.project.policy.distributors
    member.embargo_policy_version = rules.embargo_policy_version
    member.embargo_policy_accepted_at = timezone.now()
    member.save(update_fields=["embargo_policy_version", "embargo_policy_accepted_at"])


def do_accept_embargo_policy(member: DistributorMember, *, acting_user: User) -> DistributorMember:
    with transaction.atomic():
        _accept_policy(member)
        record_event(
            "distributors.policy_accepted",
            acting_user=acting_user,
            project=member.organisation.project,
            target=member,
            details={"version": member.embargo_policy_version},
        )
    return member


def do_vouch(
    organisation: Organisation, member: DistributorMember, statement: str, *, acting_user: User
) -> Vouch:
    """A member of another organisation on the list speaks for an applicant (criterion 7)."""
    if member.user_id != acting_user.pk:
        raise DistributorError("only the member themselves can vouch")
    text = statement.strip()
    if not text or len(text) > MAX_ANSWER:
        raise DistributorError(f"say why you vouch for them (1 to {MAX_ANSWER} characters)")
    if organisation.state != OrganisationState.APPLIED:
        raise DistributorError("only an organisation that is applying can be vouched for")
    if not _active_on_list(member) or member.organisation.project_id != organisation.project_id:
        raise DistributorError("only an active member of an organisation on the list can vouch")
    if member.organisation_id == organisation.pk:
        raise DistributorError("an organisation cannot vouch for itself")
    with transaction.atomic():
        vouch, created = Vouch.objects.get_or_create(
            organisation=organisation, member=member, defaults={"statement": text}
        )
        if created:
            record_event(
                "distributors.vouched",
                acting_user=acting_user,
                project=organisation.project,
                target=organisation,
                details={"by_organisation": member.organisation.name},
            )
            _tell_team(organisation.project, emails.vouch_received(vouch))
    return vouch


def _active_on_list(member: DistributorMember) -> bool:
    return member.state == MemberState.ACTIVE and member.organisation.state == OrganisationState.APPROVED


def do_approve(organisation: Organisation, *, acting_user: User) -> Organisation:
    """The team puts the organisation on the list; its people are invited to set a password."""
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.state != OrganisationState.APPLIED:
            raise DistributorError(
                f"{organisation.name} is not applying ({organisation.get_state_display()})"
            )
        founding = not Organisation.objects.filter(
            project=organisation.project, state=OrganisationState.APPROVED
        ).exists()
        # A vouch counts only while its author is still active on an organisation on the list.
        standing = organisation.vouches.filter(
            member__state=MemberState.ACTIVE, member__organisation__state=OrganisationState.APPROVED
        )
        if not founding and not standing.exists():
            raise DistributorError(
                "no member of the list has vouched for this organisation yet (criterion 7)"
            )
        _decide(organisation, OrganisationState.APPROVED, acting_user, "")
        for member in organisation.members.filter(state=MemberState.INVITED):
            _invite(member)
    return organisation


def do_decline(organisation: Organisation, reason: str, *, acting_user: User) -> Organisation:
    text = _reason(reason, "declining")
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.state != OrganisationState.APPLIED:
            raise DistributorError(
                f"{organisation.name} is not applying ({organisation.get_state_display()})"
            )
        _decide(organisation, OrganisationState.DECLINED, acting_user, text)
        for member in organisation.members.all():
            queue_email(emails.application_declined(member, text), project=organisation.project)
    return organisation


def do_remove_organisation(
    organisation: Organisation, reason: str, *, acting_user: User | None
) -> Organisation:
    """Off the list for good: its members lose access to every case at once."""
    text = _reason(reason, "removing")
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.state == OrganisationState.REMOVED:
            return organisation
        _decide(organisation, OrganisationState.REMOVED, acting_user, text)
        for member in organisation.members.exclude(state=MemberState.REMOVED):
            member.state = MemberState.REMOVED
            member.save(update_fields=["state"])
            queue_email(emails.removed_from_list(member, text), project=organisation.project)
    return organisation


def _reason(reason: str, doing: str) -> str:
    text = reason.strip()
    if not text:
        raise DistributorError(f"give the reason for {doing}: the organisation is told")
    if len(text) > MAX_REASON:
        raise DistributorError(f"the reason is longer than {MAX_REASON} characters")
    return text


def _decide(
    organisation: Organisation, state: OrganisationState, acting_user: User | None, reason: str
) -> None:
    organisation.state, organisation.decision_reason = state, reason
    organisation.decided_at, organisation.decided_by = timezone.now(), acting_user
    organisation.save(update_fields=["state", "decision_reason", "decided_at", "decided_by"])
    record_event(
        f"distributors.{state}",
        acting_user=acting_user,
        project=organisation.project,
        target=organisation,
        details={"organisation": organisation.name},
    )


def do_add_member(
    organisation: Organisation, *, email: str, name: str, public_key: str, acting_user: User
) -> DistributorMember:
    """Another person of an organisation on the list; they accept the embargo policy at first sign-in."""
    if organisation.state != OrganisationState.APPROVED:
        raise DistributorError("people are added to organisations on the list only")
    key, fingerprint = _key(public_key)
    with transaction.atomic():
        member = _new_member(organisation, email, name, key, fingerprint)
        record_event(
            "distributors.member_added",
            acting_user=acting_user,
            project=organisation.project,
            target=member,
            details={"organisation": organisation.name, "fingerprint": fingerprint},
        )
        _invite(member)
    return member


def do_set_member_state(
    member: DistributorMember, state: MemberState, *, acting_user: User
) -> DistributorMember:
    """Suspend (no access until reinstated), reinstate, or remove a person."""
    allowed = {
        MemberState.SUSPENDED: {MemberState.ACTIVE, MemberState.INVITED},
        MemberState.ACTIVE: {MemberState.SUSPENDED},
        MemberState.REMOVED: {MemberState.ACTIVE, MemberState.INVITED, MemberState.SUSPENDED},
    }
    if MemberState(member.state) not in allowed.get(state, set()):
        raise DistributorError(
            f"a member who is {member.get_state_display().lower()} cannot become {state.label.lower()}"
        )
    if state == MemberState.ACTIVE and not member.user.has_usable_password():
        state = MemberState.INVITED  # suspended before they ever set a password: invited again
    with transaction.atomic():
        member.state = state
        member.save(update_fields=["state"])
        record_event(
            f"distributors.member_{state}",
            acting_user=acting_user,
            project=member.organisation.project,
            target=member,
        )
        if state == MemberState.ACTIVE:
            notices.brief_newcomer(member)
    return member


def do_reinvite(member: DistributorMember, *, acting_user: User) -> DistributorMember:
    """A new invitation for someone who lost theirs or let it expire (a link lasts Django's
    PASSWORD_RESET_TIMEOUT, three days; every link dies once a password is set)."""
    if member.state != MemberState.INVITED or member.organisation.state != OrganisationState.APPROVED:
        raise DistributorError("only an invited person of an organisation on the list can be invited again")
    with transaction.atomic():
        record_event(
            "distributors.member_reinvited",
            acting_user=acting_user,
            project=member.organisation.project,
            target=member,
        )
        _invite(member)
    return member


def _invite(member: DistributorMember) -> None:
    queue_email(emails.invitation(member, invitation_url(member.user)), project=member.organisation.project)


def invitation_url(user: User) -> str:
    """A one-time link to set a password (Django's reset token: void once the password changes)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.BASE_URL + reverse("distributor-welcome", args=[uid, token])


def do_set_member_password(password: str, *, acting_user: User) -> None:
    """The invitation was used: the person can sign in, and their invited rows become active."""
    with transaction.atomic():
        acting_user.set_password(password)
        acting_user.save(update_fields=["password"])
        invited = DistributorMember.objects.filter(
            user=acting_user, state=MemberState.INVITED, organisation__state=OrganisationState.APPROVED
        )
        for member in invited:
            member.state = MemberState.ACTIVE
            member.save(update_fields=["state"])
            record_event(
                "distributors.member_activated",
                acting_user=acting_user,
                project=member.organisation.project,
                target=member,
            )
            notices.brief_newcomer(member)


def _tell_team(project: Project, email: emails.Email) -> None:
    if email.to:
        queue_team_notice(email, NoticeKind.PROPOSAL, project=project)
