from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vulndesk.cases"
    label = "cases"
