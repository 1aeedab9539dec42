from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "vulndesk.duplicates"
    label = "duplicates"

    def ready(self) -> None:
        # Apps are loading: these modules import models, so they are imported here.
        from vulndesk.duplicates import tasks  # noqa: PLC0415
        from vulndesk.intake import hooks as intake_hooks  # noqa: PLC0415

        # Duplicate suggestions: the worker ranks a new report after intake commits.
        if tasks.on_report_received not in intake_hooks.on_report_received:
            intake_hooks.on_report_received.append(tasks.on_report_received)
        # A report released from quarantine is ranked, and ranked against, like the others.
        if tasks.on_report_released not in intake_hooks.on_report_released:
            intake_hooks.on_report_released.append(tasks.on_report_released)
