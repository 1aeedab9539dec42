from typing import Any

from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "vulndesk.advisories"
    label = "advisories"

    def ready(self) -> None:
        # Apps are loading: these modules import models, so they are imported here.
        from vulndesk.advisories import case_hooks as for_cases  # noqa: PLC0415
        from vulndesk.advisories import hooks as advisory_hooks  # noqa: PLC0415
        from vulndesk.advisories import tasks  # noqa: PLC0415
        from vulndesk.advisories.actions import publish_due, schedule_at_embargo_end  # noqa: PLC0415
        from vulndesk.cases import hooks as case_hooks  # noqa: PLC0415
        from vulndesk.cases.actions import closing  # noqa: PLC0415
        from vulndesk.embargo import hooks as embargo_hooks  # noqa: PLC0415

        registrations: list[tuple[list[Any], object]] = [
            # Publication may be the last step a case waits for (before the distributors hear of it).
            (advisory_hooks.on_published, closing.on_advisory_published),
            (advisory_hooks.publication_queues, tasks.queue_publication),
            # An agreed embargo end is the moment the case's draft advisory goes out.
            (embargo_hooks.on_embargo_agreed, schedule_at_embargo_end),
            (case_hooks.advisory_facts, for_cases.advisory_facts),
            (case_hooks.sweep_jobs, case_hooks.SweepJob("advisories published", publish_due)),
            (case_hooks.tracking_panels, case_hooks.TrackingPanel(for_cases.tracking_context)),
        ]
        for hooks, hook in registrations:
            if hook not in hooks:
                hooks.append(hook)
