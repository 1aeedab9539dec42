from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "vulndesk.advisories"
    label = "advisories"
