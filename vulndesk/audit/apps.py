from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "vulndesk.audit"
    label = "audit"
