from typing import Any

from django.apps import AppConfig


class EmbargoConfig(AppConfig):
    name = "vulndesk.embargo"
    label = "embargo"

    def ready(self) -> None:
        # Apps are loading: these modules import models, so they are imported here.
        from vulndesk.cases import hooks as case_hooks  # noqa: PLC0415
        from vulndesk.embargo import case_hooks as for_cases  # noqa: PLC0415
        from vulndesk.embargo.actions import (  # noqa: PLC0415
            end_due_embargoes,
            exit_on_disclosing_events,
            send_embargo_ending_notices,
        )
        from vulndesk.embargo.views import embargo_context  # noqa: PLC0415

        registrations: list[tuple[list[Any], object]] = [
            # A public case, a public exploit or attacks end the embargo at once.
            (case_hooks.on_case_events, exit_on_disclosing_events),
            # Every section page has the embargo: the stage's guidance and the forms read it.
            (case_hooks.case_panels, case_hooks.CasePanel("embargo", embargo_context, on_section_pages=True)),
            (case_hooks.embargo_agreed, for_cases.embargo_agreed),
            (case_hooks.sweep_jobs, case_hooks.SweepJob("embargoes ended", end_due_embargoes)),
            (
                case_hooks.sweep_jobs,
                case_hooks.SweepJob("embargo-ending notices", send_embargo_ending_notices),
            ),
            (case_hooks.tracking_panels, case_hooks.TrackingPanel(for_cases.tracking_context)),
        ]
        for hooks, hook in registrations:
            if hook not in hooks:
                hooks.append(hook)
