from typing import Any

from django.apps import AppConfig


class DistributorsConfig(AppConfig):
    name = "vulndesk.distributors"
    label = "distributors"

    def ready(self) -> None:
        # Apps are loading: these modules import models, so they are imported here.
        from vulndesk.advisories import hooks as advisory_hooks  # noqa: PLC0415
        from vulndesk.cases import hooks as case_hooks  # noqa: PLC0415
        from vulndesk.distributors import case_hooks as for_cases  # noqa: PLC0415
        from vulndesk.distributors import notices  # noqa: PLC0415
        from vulndesk.distributors.desk_views import distributors_context  # noqa: PLC0415
        from vulndesk.embargo import hooks as embargo_hooks  # noqa: PLC0415

        registrations: list[tuple[list[Any], object]] = [
            # The embargo and advisories domains call these inside their changes' transactions.
            (embargo_hooks.on_embargo_changed, notices.on_embargo_changed),
            (advisory_hooks.on_published, notices.on_advisory_published),
            (case_hooks.case_panels, case_hooks.CasePanel("distributors", distributors_context)),
            (case_hooks.sweep_jobs, case_hooks.SweepJob("final notices", notices.send_due_final_notices)),
            (case_hooks.tracking_panels, case_hooks.TrackingPanel(for_cases.tracking_context)),
        ]
        for hooks, hook in registrations:
            if hook not in hooks:
                hooks.append(hook)
