"""Django settings for vulndesk, read from the environment only.

Every variable is documented in docs/CONFIGURATION.md. With nothing set, vulndesk runs as the
embedded default: a SQLite database in WAL mode and generated secrets, all under ``./var``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from vulndesk.config import (
    ed25519_seed,
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_secret,
    env_str,
    generated_secret,
    is_checkpoint_destination,
    mail_address,
    mail_domain,
    private_data_dir,
    private_file,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = private_data_dir(Path(env_str("VULNDESK_DATA_DIR", "var")).resolve())

DEBUG = env_bool("VULNDESK_DEBUG", default=False)
SECRET_KEY = env_secret("VULNDESK_SECRET_KEY") or generated_secret(DATA_DIR, "secret_key")

BASE_URL = env_str("VULNDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base = urlsplit(BASE_URL)
if _base.scheme not in {"http", "https"} or not _base.hostname:
    raise ImproperlyConfigured(f"VULNDESK_BASE_URL={BASE_URL!r} must be an absolute http(s) URL")
HTTPS = _base.scheme == "https"
ALLOWED_HOSTS = env_list("VULNDESK_ALLOWED_HOSTS", [_base.hostname, "127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]

# Encryption at rest: "kid:base64key" pairs, the first one encrypts, all of them decrypt.
ENCRYPTION_KEYS = env_secret("VULNDESK_ENCRYPTION_KEYS") or "k1:" + generated_secret(
    DATA_DIR, "encryption_key", nbytes=32
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "csp",
    # The API's documentation page then serves Swagger UI from our own static files, not a CDN.
    "ninja",
    "vulndesk.accounts",
    "vulndesk.audit",
    "vulndesk.projects",
    "vulndesk.intake",
    "vulndesk.cases",
    "vulndesk.advisories",
    "vulndesk.embargo",
    "vulndesk.distributors",
    "vulndesk.notify",
    "vulndesk.openpgp",
    "vulndesk.duplicates",
    "vulndesk.web",
]

MIDDLEWARE = [
    "vulndesk.web.middleware.RequestSizeLimitMiddleware",
    "vulndesk.web.middleware.NulCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the sign-in is known, outside the second-factor check: its sign-outs are private too.
    "vulndesk.web.private.PrivatePagesMiddleware",
    "vulndesk.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "vulndesk.urls"
WSGI_APPLICATION = "vulndesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vulndesk.web.context.site",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env_secret("DATABASE_URL")
    if url:
        try:
            config: dict[str, object] = dict(
                dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
            )
        except ValueError as exc:
            raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
        if config.get("ENGINE") == "django.db.backends.sqlite3":
            config["OPTIONS"] = _SQLITE_OPTIONS
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        # Made 0600 before SQLite opens it: its -wal and -shm files take the database's mode.
        "NAME": private_file(DATA_DIR / "vulndesk.sqlite3"),
        "OPTIONS": _SQLITE_OPTIONS,
    }


# WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN, so two
# writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
_SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# Cookies and transport: secure whenever the instance is served over HTTPS.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("VULNDESK_SESSION_SECONDS", default=8 * 3600, minimum=300)
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = HTTPS and env_bool("VULNDESK_SSL_REDIRECT", default=True)
# The reverse proxies in front of the web nodes (docs/DEPLOYMENT.md): X-Forwarded-For hops they
# added are believed, from the right, for per-address limits (web/client.py); none is by default.
TRUSTED_PROXIES = env_networks("VULNDESK_TRUSTED_PROXIES")
BEHIND_PROXY = env_bool("VULNDESK_BEHIND_PROXY", default=bool(TRUSTED_PROXIES))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Preloading asks browsers to use HTTPS for the host before its first visit; opt out if the host
# may ever serve plain HTTP again.
SECURE_HSTS_PRELOAD = HTTPS and env_bool("VULNDESK_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    },
}

# Limits on what a request may carry, enforced before the body is read
# (vulndesk.web.middleware); intake adds its own per-field and per-attachment limits.
MAX_REQUEST_BYTES = env_int("VULNDESK_MAX_REQUEST_BYTES", default=2 * 1024 * 1024, minimum=65536)
MAX_REPORT_REQUEST_BYTES = env_int("VULNDESK_MAX_REPORT_BYTES", default=40 * 1024 * 1024, minimum=65536)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REPORT_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    },
}

# Webhooks go to https:// addresses; plain http only to a loopback address, and only when allowed
# (a relay on the same host, or the test suite).
WEBHOOKS_ALLOW_LOOPBACK_HTTP = env_bool("VULNDESK_WEBHOOKS_ALLOW_LOOPBACK_HTTP", default=False)
# Webhooks never reach loopback, private, link-local or reserved addresses (SSRF), except inside the
# networks listed here (a receiver on the same host or the internal network, on purpose).
WEBHOOK_ALLOWED_NETWORKS = env_networks("VULNDESK_WEBHOOK_ALLOWED_NETWORKS")

# Outgoing mail. With no relay configured, mail is written to files under the data directory so a
# laptop install can read what it would have sent; it is never sent to a guessed relay.
SMTP_RELAY_HOST = env_str("VULNDESK_SMTP_HOST", "")
if SMTP_RELAY_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_RELAY_HOST
    EMAIL_PORT = env_int("VULNDESK_SMTP_PORT", default=587, minimum=1)
    EMAIL_HOST_USER = env_str("VULNDESK_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env_secret("VULNDESK_SMTP_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("VULNDESK_SMTP_STARTTLS", default=True)
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "vulndesk.notify.filemail.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"
# Mail names a domain, never an IP literal: receivers judge a sender by its domain (SPF, DMARC),
# and a client cannot answer an address at 127.0.0.1. See mail_domain() for the default.
MAIL_DOMAIN = mail_domain("VULNDESK_MAIL_DOMAIN", _base.hostname)
DEFAULT_FROM_EMAIL = mail_address("VULNDESK_FROM_EMAIL", f"vulndesk@{MAIL_DOMAIN}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where replies to our mail go (reply+<report>.<mac>@REPLY_DOMAIN): a domain the operator routes to
# the SMTP intake, never an intake address's domain, which is often a third party's list or desk.
REPLY_DOMAIN = mail_domain("VULNDESK_REPLY_DOMAIN", MAIL_DOMAIN)

# Intake limits, per hour: reports from one network address (web, API) and from one sender.
INTAKE_PER_ADDRESS_PER_HOUR = env_int("VULNDESK_INTAKE_PER_ADDRESS_PER_HOUR", default=20)
INTAKE_PER_SENDER_PER_HOUR = env_int("VULNDESK_INTAKE_PER_SENDER_PER_HOUR", default=10)
# A reporter's replies to one report, per hour (tracking page and mail alike), and the quiet period
# after a "reporter replied" notice during which further replies wait for one batched notice.
REPLIES_PER_REPORT_PER_HOUR = env_int("VULNDESK_REPLIES_PER_REPORT_PER_HOUR", default=10)
REPLY_NOTICE_MINUTES = env_int("VULNDESK_REPLY_NOTICE_MINUTES", default=15)

# Attachments on reports, as the operator allows them.
INTAKE_MAX_ATTACHMENTS = env_int("VULNDESK_MAX_ATTACHMENTS", default=10)
INTAKE_MAX_ATTACHMENT_BYTES = env_int("VULNDESK_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024, minimum=1024)
INTAKE_MAX_ATTACHMENTS_TOTAL_BYTES = env_int(
    "VULNDESK_MAX_ATTACHMENTS_TOTAL_BYTES", default=25 * 1024 * 1024, minimum=1024
)

# SMTP intake (reports by email).
SMTP_INTAKE_HOST = env_str("VULNDESK_SMTP_INTAKE_HOST", "127.0.0.1")
SMTP_INTAKE_PORT = env_int("VULNDESK_SMTP_INTAKE_PORT", default=2525, minimum=1)
# Mail relays that hand mail to the intake (an MX in front of it): for mail they pass on, the
# per-address limit counts the host their Received header names, not the relay (intake/relay.py).
SMTP_INTAKE_TRUSTED_RELAYS = env_networks("VULNDESK_SMTP_INTAKE_TRUSTED_RELAYS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env_str("VULNDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs the request line and, on errors, request details; we keep the line only.
        "django.request": {"level": "ERROR", "handlers": ["stderr"], "propagate": False},
    },
}
DEFAULT_PROJECT = env_str("VULNDESK_DEFAULT_PROJECT", "")

# Signed checkpoints of the audit chain (vulndesk/audit/checkpoints.py): the Ed25519 key (made
# under the data directory at first need when unset), where the worker writes them (a file path
# appended to, "log", or "mailto:address"), and how often.
AUDIT_CHECKPOINT_KEY = env_secret("VULNDESK_AUDIT_CHECKPOINT_KEY") or ""
if AUDIT_CHECKPOINT_KEY:
    ed25519_seed(AUDIT_CHECKPOINT_KEY)  # a bad key stops the start, not the first checkpoint
AUDIT_CHECKPOINT_TO = env_str("VULNDESK_AUDIT_CHECKPOINT_TO", "log")
if not is_checkpoint_destination(AUDIT_CHECKPOINT_TO):
    raise ImproperlyConfigured(
        f"VULNDESK_AUDIT_CHECKPOINT_TO={AUDIT_CHECKPOINT_TO!r} must be an absolute file path, "
        "log, or mailto:address"
    )
AUDIT_CHECKPOINT_MINUTES = env_int("VULNDESK_AUDIT_CHECKPOINT_MINUTES", default=60, minimum=1)
# The issuing party named in the CSAF provider metadata (CSAF 2.0 §7.1.7, /publisher/name).
CSAF_PUBLISHER_NAME = env_str("VULNDESK_CSAF_PUBLISHER_NAME", f"vulndesk at {_base.hostname}")
