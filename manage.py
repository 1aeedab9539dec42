#!/usr/bin/env python
"""Django's manage.py; the `vulndesk` command is the interface for people."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vulndesk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
