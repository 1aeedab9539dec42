"""Settings for the test suite: the real settings, read from a throwaway environment.

Settings are read from the environment when Django starts, which pytest-django does before any
conftest runs; so the environment is prepared here, then the real settings module is loaded.
"""

import os
import tempfile

os.environ["VULNDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="vulndesk-test-")
os.environ.setdefault("VULNDESK_BASE_URL", "http://testserver")
os.environ["VULNDESK_SMTP_HOST"] = ""
os.environ["VULNDESK_WEBHOOKS_ALLOW_LOOPBACK_HTTP"] = "1"
os.environ.pop("VULNDESK_SECRET_KEY", None)
os.environ.pop("VULNDESK_ENCRYPTION_KEYS", None)

from vulndesk.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

# aiosmtpd logs every connection at INFO from its own thread, sometimes after pytest has closed the
# captured stream; the server run by `vulndesk smtpd` sets the same level (vulndesk/intake/smtpd.py).
LOGGING["loggers"]["mail.log"] = {"level": "WARNING"}  # type: ignore[index]  # noqa: F405
