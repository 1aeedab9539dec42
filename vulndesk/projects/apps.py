from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "vulndesk.projects"
    label = "projects"
