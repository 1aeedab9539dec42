"""Typed readers for the environment: the only place settings come from.

Every helper raises ``ImproperlyConfigured`` naming the variable and the problem, so a typo in a
deployment fails at start-up instead of at the first request (Healthchecks' ``envbool``, Zulip's
``get_mandatory_secret``). Secrets may be given as ``NAME`` or as ``NAME_FILE`` pointing at a file.
"""

from __future__ import annotations

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


def generated_secret(data_dir: Path, file_name: str, *, nbytes: int = 48) -> str:
    """A secret made once for the embedded default and kept in the data directory (mode 0600).

    The file is created with O_EXCL so two processes starting together agree on one secret.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
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
