from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "vulndesk.intake"
    label = "intake"
