from django.apps import AppConfig


class EmbargoConfig(AppConfig):
    name = "vulndesk.embargo"
    label = "embargo"
