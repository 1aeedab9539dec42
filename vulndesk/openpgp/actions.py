"""Giving a project its OpenPGP key, and keeping the key a reporter sent with a report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from vulndesk.audit.actions import record_event
from vulndesk.openpgp.keys import GnuPGHome, OpenPGPError
from vulndesk.openpgp.models import KeySource, ProjectKey, ReporterKey
from vulndesk.projects.models import Project

if TYPE_CHECKING:
    from vulndesk.accounts.models import User
    from vulndesk.intake.models import Report

_PROBE = b"vulndesk checks that this key decrypts without a passphrase"


class ProjectKeyError(ValueError):
    """A key the project cannot use; the message says why and what to do."""


@dataclass(frozen=True)
class _KeyPair:
    fingerprint: str
    public_key: str
    secret_key: str


def do_generate_project_key(
    project: Project, *, acting_user: User | None, replace: bool = False
) -> ProjectKey:
    """A new key pair for the project's intake (Ed25519/Curve25519, no expiry, no passphrase).

    Its user id is "<project> security team <first intake address>", the address reporters write to.
    """
    name = f"{project.name} security team"
    with GnuPGHome() as home:
        fingerprint = home.generate(name, project.policy.contacts.intake_addresses[0])
        pair = _KeyPair(fingerprint, home.export_public(fingerprint), home.export_secret(fingerprint))
    return _store(project, pair, KeySource.GENERATED, acting_user=acting_user, replace=replace)


def do_import_project_key(
    project: Project, armored_secret_key: str, *, acting_user: User | None, replace: bool = False
) -> ProjectKey:
    """The team's existing key: one secret key, with an encryption subkey, and no passphrase."""
    with GnuPGHome() as home:
        try:
            imported = home.import_keys(armored_secret_key)
        except OpenPGPError as exc:
            raise ProjectKeyError(f"the key could not be read: {exc}") from None
        fingerprint = _one_secret_key(imported, home.secret_fingerprints())
        _check_usable(home, fingerprint)
        pair = _KeyPair(fingerprint, home.export_public(fingerprint), home.export_secret(fingerprint))
    return _store(project, pair, KeySource.IMPORTED, acting_user=acting_user, replace=replace)


def _one_secret_key(imported: list[str], secret: list[str]) -> str:
    if not imported:
        raise ProjectKeyError("the file holds no OpenPGP key (expected an armored secret key)")
    if len(imported) > 1:
        raise ProjectKeyError(f"the file holds {len(imported)} keys; import exactly one")
    if imported[0] not in secret:
        raise ProjectKeyError(
            "the file holds a public key only; export the secret key with: "
            "gpg --armor --export-secret-keys FINGERPRINT"
        )
    return imported[0]


def _check_usable(home: GnuPGHome, fingerprint: str) -> None:
    """Encrypt to the key and decrypt, as the intake will: catches a missing encryption subkey
    and a passphrase (the intake runs unattended and cannot type one)."""
    if not home.can_encrypt_to(fingerprint):
        raise ProjectKeyError("the key has no usable encryption subkey (expired or revoked?)")
    try:
        readable = home.decrypt(home.encrypt(_PROBE, fingerprint).encode()).plaintext == _PROBE
    except OpenPGPError:
        readable = False
    if not readable:
        raise ProjectKeyError(
            "the secret key does not decrypt without a passphrase; remove the passphrase "
            "(gpg --edit-key FINGERPRINT passwd) on a copy, then import that copy"
        )


def _store(
    project: Project, pair: _KeyPair, source: KeySource, *, acting_user: User | None, replace: bool
) -> ProjectKey:
    declared = project.policy.contacts.openpgp_key_fingerprint
    if declared and declared != pair.fingerprint:
        raise ProjectKeyError(
            f"the policy names the key {declared}; this key is {pair.fingerprint}. "
            "Change contacts.openpgp_key_fingerprint in the policy first"
        )
    with transaction.atomic():
        locked = Project.objects.select_for_update(no_key=True).get(pk=project.pk)
        previous = ProjectKey.objects.filter(project=locked).first()
        if previous is not None and not replace:
            raise ProjectKeyError(
                f"{locked.slug} already has the key {previous.fingerprint}; replace it explicitly"
            )
        if previous is not None:
            previous.delete()
        key = ProjectKey(
            project=locked, fingerprint=pair.fingerprint, public_key=pair.public_key, source=source
        )
        key.secret_key = pair.secret_key
        key.save()
        record_event(
            f"project.openpgp_key_{source}",
            acting_user=acting_user,
            project=locked,
            target=key,
            details={
                "fingerprint": key.fingerprint,
                "replaced": previous.fingerprint if previous is not None else None,
            },
        )
    return key


def store_reporter_key(report: Report, public_key: str, fingerprint: str) -> ReporterKey:
    """Keep the key that came with a report; runs inside ``do_receive_report``'s transaction,
    whose "report.received" event records it."""
    stored = ReporterKey(report=report, fingerprint=fingerprint)
    stored.public_key = public_key
    stored.save()
    return stored
