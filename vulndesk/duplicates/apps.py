from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "vulndesk.duplicates"
    label = "duplicates"
