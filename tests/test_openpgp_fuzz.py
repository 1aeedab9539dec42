"""Hostile OpenPGP: mutated encrypted, signed and inline messages through the real gpg.

Every mutation either parses or is refused with a reason; none crashes the parser, and none makes
gpg run into its time limit. Each example runs gpg a few times, so ``make test`` tries a few dozen
(``VULNDESK_FUZZ_EXAMPLES``, default 100); for a longer run:
``VULNDESK_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/test_openpgp_fuzz.py``.
"""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from collections.abc import Iterator

import gnupg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vulndesk.intake.mail import ParsedEmail, parse_report_email
from vulndesk.intake.mime import MailParseError
from vulndesk.openpgp.inbound import IntakeKey
from vulndesk.openpgp.keys import GPGCONF_BINARY, GnuPGHome

from .test_openpgp import Correspondent, _new_key, entity, inline, pgp_mime, pgp_signed

EXAMPLES = int(os.environ.get("VULNDESK_FUZZ_EXAMPLES", "100"))


@pytest.fixture(scope="module")
def intake_key() -> IntakeKey:
    with GnuPGHome() as home:
        fingerprint = home.generate("Intake", "security@intake.test")
        return IntakeKey(secret_key=home.export_secret(fingerprint), fingerprint=fingerprint)


@pytest.fixture(scope="module")
def rita() -> Iterator[Correspondent]:
    with tempfile.TemporaryDirectory(prefix="fuzz-gnupg-") as home:
        gpg = gnupg.GPG(gnupghome=home, options=["--pinentry-mode", "loopback"])
        yield Correspondent(gpg, _new_key(gpg, "Rita", "rita@researcher.test"))
        subprocess.run([GPGCONF_BINARY, "--homedir", home, "--kill", "all"], check=False)


@pytest.fixture(scope="module")
def samples(intake_key: IntakeKey, rita: Correspondent) -> list[bytes]:
    with GnuPGHome() as home:
        home.import_keys(intake_key.secret_key)
        public = home.export_public(intake_key.fingerprint)
    text = "The planner hands tool output to eval."
    signed = entity(text, key=rita.public_key())
    return [
        pgp_mime(rita.encrypt(entity(text, key=rita.public_key()), public, sign=True)),
        pgp_signed(signed, rita.sign_detached(signed)),
        inline(rita.clearsign(text)),
        inline(rita.encrypt(text.encode(), public)),
    ]


ARMOR_TOKENS = [
    b"-----BEGIN PGP MESSAGE-----",
    b"-----END PGP MESSAGE-----",
    b"\r\n",
    b"=",
    b"--enc",
    b"\x00",
]


def _mutate_packets(raw: bytes, data: st.DataObject) -> bytes:
    """Flip bytes inside an armored block's decoded packets, and armor it again (CRC dropped)."""
    start = raw.find(b"-----BEGIN PGP")
    body_start = raw.find(b"\r\n\r\n", start) + 4
    end = raw.find(b"\r\n=", body_start)
    if start < 0 or body_start < 4 or end < 0:
        return raw
    packets = bytearray(base64.b64decode(b"".join(raw[body_start:end].split()), validate=False))
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, max(0, len(packets) - 1)))
        packets[position : position + 1] = data.draw(st.binary(min_size=0, max_size=3))
    armored = base64.encodebytes(bytes(packets)).replace(b"\n", b"\r\n")
    tail = raw.find(b"-----END", end)
    return raw[:body_start] + armored + raw[tail:]


def _mutate_text(raw: bytes, data: st.DataObject) -> bytes:
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(mutated)))
        chunk = data.draw(st.sampled_from(ARMOR_TOKENS) | st.binary(min_size=1, max_size=6))
        if data.draw(st.booleans()):
            mutated[position:position] = chunk
        else:
            mutated[position : position + len(chunk)] = chunk
    return bytes(mutated)


def _parsed_or_refused(raw: bytes, key: IntakeKey) -> None:
    # GnuPGUnavailableError (gpg ran into its time limit) is neither: it fails the test.
    try:
        parsed = parse_report_email(raw, key)
    except MailParseError as exc:
        reason = str(exc)
        assert reason, "a refusal must say why"
    else:
        assert isinstance(parsed, ParsedEmail)


def test_the_unmutated_samples_parse(samples: list[bytes], intake_key: IntakeKey) -> None:
    for raw in samples:
        assert isinstance(parse_report_email(raw, intake_key), ParsedEmail)


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_openpgp_parses_or_is_refused_with_a_reason(
    samples: list[bytes], intake_key: IntakeKey, data: st.DataObject
) -> None:
    raw = data.draw(st.sampled_from(samples))
    mutate = data.draw(st.sampled_from([_mutate_packets, _mutate_text]))
    _parsed_or_refused(mutate(raw, data), intake_key)
