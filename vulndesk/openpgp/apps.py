from django.apps import AppConfig


class OpenPGPConfig(AppConfig):
    name = "vulndesk.openpgp"
    label = "openpgp"
    verbose_name = "OpenPGP"
