from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "vulndesk.web"
    label = "web"
