"""Signed checkpoints of the audit chain, kept outside the database.

The chain shows an event changed in the middle of the log, but someone who can rewrite the whole
database can cut the newest events, or recompute every hash after a change, and move the head to
match. A checkpoint records where the chain stood (its head hash, how many events, the last
event's id, when) signed with an Ed25519 key the database does not hold, and goes where the
operator chose (``VULNDESK_AUDIT_CHECKPOINT_TO``: a file it is appended to, the log, or a mail).
``vulndesk audit verify --against FILE`` then finds a log shorter than a checkpoint, or a different
event where a checkpoint stood.

Writing a checkpoint reads the log and changes nothing in it, so it is not an audit event itself.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vulndesk.audit import hooks
from vulndesk.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from vulndesk.config import ed25519_seed, generated_secret, is_checkpoint_destination

logger = logging.getLogger(__name__)

KIND = "vulndesk-audit-checkpoint"
KEY_FILE = "audit_checkpoint_key"


class CheckpointError(Exception):
    """A checkpoint that cannot be written: the head disagrees with the log."""


@cache
def signing_key() -> Ed25519PrivateKey:
    """The configured key, or one made at first need in the data directory (0600)."""
    text = settings.AUDIT_CHECKPOINT_KEY or generated_secret(settings.DATA_DIR, KEY_FILE, nbytes=32)
    return Ed25519PrivateKey.from_private_bytes(ed25519_seed(text))


def _public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _signed_bytes(fields: dict[str, object]) -> bytes:
    unsigned = {name: value for name, value in fields.items() if name != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def make_checkpoint(now: dt.datetime | None = None) -> dict[str, object]:
    """Where the chain stands now, signed; refused if the head and the last event disagree."""
    with transaction.atomic():
        # The head's lock holds appends back, so the head and the last event are read together.
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        last = AuditEvent.objects.order_by("-seq").first()
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS_HASH)
    last_seq, last_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    if (last_seq, last_hash) != (head_seq, head_hash):
        raise CheckpointError(
            "the audit chain head disagrees with the last event: run `vulndesk audit verify`"
        )
    fields: dict[str, object] = {
        "kind": KIND,
        "version": 1,
        "event_count": head_seq,
        "last_event_id": last.pk if last else None,
        "head_hash": head_hash,
        "written_at": (now or timezone.now()).astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "key_id": key_id(_public_key()),
    }
    fields["signature"] = base64.b64encode(signing_key().sign(_signed_bytes(fields))).decode()
    return fields


def write_checkpoint(destination: str | None = None) -> dict[str, object]:
    """Write one checkpoint to ``destination`` (default: the setting); the checkpoint written."""
    where = destination or settings.AUDIT_CHECKPOINT_TO
    if not is_checkpoint_destination(where):
        raise CheckpointError(f"{where!r} is not an absolute file path, log, or mailto:address")
    checkpoint = make_checkpoint()
    line = json.dumps(checkpoint, sort_keys=True)
    if where == "log":
        logger.info("audit checkpoint %s", line)
    elif where.startswith("mailto:"):
        _mail(where.removeprefix("mailto:"), checkpoint, line)
    else:
        _append_line(Path(where), line)
    return checkpoint


def _mail(address: str, checkpoint: dict[str, object], line: str) -> None:
    # The outbox sits above the audit log: it registers how a checkpoint is mailed (audit/hooks.py).
    if not hooks.checkpoint_mailers:
        raise CheckpointError("a mailto: destination needs the outbox, and it is not installed")
    for send in hooks.checkpoint_mailers:
        send(address, checkpoint, line)


def _append_line(path: Path, line: str) -> None:
    # Appended, never rewritten: earlier checkpoints are what later ones are checked beside.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


@dataclass(frozen=True)
class CheckpointFinding:
    line: int
    problem: str


def verify_against(path: Path) -> tuple[int, list[CheckpointFinding]]:
    """Check the log against every checkpoint in the file: how many were read, and what is wrong."""
    findings: list[CheckpointFinding] = []
    read = 0
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        read += 1
        problem = _check_one(text)
        if problem:
            findings.append(CheckpointFinding(number, problem))
    return read, findings


def _check_one(text: str) -> str:
    # A line copied from the log keeps its prefix ("... audit checkpoint {...}"): the JSON is the rest.
    start = text.find("{")
    try:
        fields = json.loads(text[max(start, 0) :])
        signature = base64.b64decode(fields["signature"], validate=True)
        count, event_id, head_hash, when = (
            int(fields["event_count"]),
            fields["last_event_id"],
            str(fields["head_hash"]),
            fields["written_at"],
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        return "not a checkpoint"
    try:
        _public_key().verify(signature, _signed_bytes(fields))
    except InvalidSignature:
        return "its signature does not verify with this instance's checkpoint key"
    if count == 0:
        return ""
    event = AuditEvent.objects.filter(seq=count).first()
    if event is None:
        remaining = AuditEvent.objects.count()
        return (
            f"the log has {remaining} events, fewer than the {count} of the checkpoint of {when}: it was cut"
        )
    if event.hash != head_hash or event.pk != event_id:
        return f"event #{count} is not the one checkpointed at {when}: the log was rewritten"
    return ""
