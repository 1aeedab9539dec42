"""Typed readers for the environment: the only place settings come from.

Every helper raises ``ImproperlyConfigured`` naming the variable and the problem, so a typo in a
deployment fails at start-up instead of at the first request (Healthchecks' ``envbool``, Zulip's
``get_mandatory_secret``). Secrets may be given as ``NAME`` or as ``NAME_FILE`` pointing at a file.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def env_networks(name: str) -> tuple[Network, ...]:
    """Comma-separated networks (``10.0.0.0/8``) or single addresses (``192.0.2.7``); empty if unset."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network address or range") from None
    return tuple(networks)


# A domain name as mail needs it (RFC 5321 §4.1.2): dot-separated labels of letters, digits, hyphens.
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
# What mail uses when the base URL names a host by its IP address and no domain is set: a name,
# at least, that every mail library accepts; a real deployment sets VULNDESK_MAIL_DOMAIN.
IP_HOST_MAIL_DOMAIN = "localhost"


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def mail_domain(name: str, default_host: str) -> str:
    """A domain for mail addresses and Message-IDs: the variable, else ``default_host`` unless
    that is an IP literal. An IP literal or a malformed name given in the variable is refused."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        host = default_host.strip().lower()
        return IP_HOST_MAIL_DOMAIN if _is_ip_literal(host) or not _DOMAIN.match(host) else host
    if _is_ip_literal(raw):
        raise ImproperlyConfigured(f"{name}={raw!r} is an IP address: mail needs a domain name")
    if not _DOMAIN.match(raw):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a domain name")
    return raw


def mail_address(name: str, default: str) -> str:
    """An address ``local@domain`` whose domain is a name, never an IP literal."""
    raw = os.environ.get(name, "").strip() or default
    local, at, domain = raw.rpartition("@")
    # A display name ("vulndesk <security@example.org>") is allowed; the address is what is checked.
    domain = domain.rstrip(">").strip().lower()
    if not at or not local or _is_ip_literal(domain) or not _DOMAIN.match(domain):
        raise ImproperlyConfigured(f"{name}={raw!r} must be an address at a domain name, not an IP address")
    return raw


def env_secret(name: str) -> str | None:
    """``NAME`` or the contents of the file named by ``NAME_FILE``; never both."""
    direct = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if direct and file_name:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read the file ({exc.strerror})") from None
    return direct or None


def ed25519_seed(text: str) -> bytes:
    """The 32 bytes of an Ed25519 private key given as base64url (the audit checkpoint key)."""
    try:
        seed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != 32:  # noqa: PLR2004 - an Ed25519 private key is 32 bytes
        raise ImproperlyConfigured(
            "VULNDESK_AUDIT_CHECKPOINT_KEY must be 32 bytes in base64url (43 characters)"
        )
    return seed


def is_checkpoint_destination(value: str) -> bool:
    """Where audit checkpoints may go: an absolute file path, "log", or "mailto:address"."""
    if value == "log":
        return True
    if value.startswith("mailto:"):
        return "@" in value
    return Path(value).is_absolute()


def private_data_dir(path: Path) -> Path:
    """The data directory, 0700, in a process that creates everything readable by its owner only.

    Other local users must not read the database, the mail files (they carry live tracking links)
    or the generated secrets. The umask is set once here, as the settings load and before anything
    is written, because some writers take their mode from it: SQLite for the database and its -wal
    and -shm files (which copy the database's mode), Django's file mail backend, the static folder.
    Those we create ourselves also name their mode (0600, 0700), so a later umask change cannot
    widen them. Files an older version left wider are narrowed by ``narrow_data_dir``.
    """
    os.umask(0o077)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def narrow_data_dir(path: Path) -> int:
    """Make every folder under ``path`` 0700 and every file 0600; how many were wider."""
    narrowed = 0
    for folder, folders, files in os.walk(path):
        for name, mode in [*((f, 0o700) for f in folders), *((f, 0o600) for f in files)]:
            entry = Path(folder) / name
            if not entry.is_symlink() and entry.stat().st_mode & 0o077:
                entry.chmod(mode)
                narrowed += 1
    return narrowed


def private_file(path: Path) -> Path:
    """``path`` created empty with mode 0600 if it does not exist (SQLite then keeps the mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return path


def generated_secret(data_dir: Path, file_name: str, *, nbytes: int = 48) -> str:
    """A secret made once for the embedded default and kept in the data directory (mode 0600).

    The file is created with O_EXCL so two processes starting together agree on one secret.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / file_name
    if not path.exists():
        # Write aside, then link into place: link fails if another process won the race, and no
        # reader ever sees a half-written file.
        tmp = data_dir / f".{file_name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(nbytes))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return _read_private_file(path)


def _read_private_file(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        raise ImproperlyConfigured(f"{path.name} in the data directory must be readable by its owner only")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ImproperlyConfigured(f"{path.name} in the data directory is empty")
    return value
