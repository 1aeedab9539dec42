"""The product's settings, plus the baseline view's URL: used only by `make bench`."""

from vulndesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
