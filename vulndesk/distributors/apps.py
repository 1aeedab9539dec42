from django.apps import AppConfig


class DistributorsConfig(AppConfig):
    name = "vulndesk.distributors"
    label = "distributors"

    def ready(self) -> None:
        # The embargo and advisories domains call these after their changes commit.
        from vulndesk.advisories import hooks as advisory_hooks  # noqa: PLC0415 - apps are loading
        from vulndesk.distributors import notices  # noqa: PLC0415
        from vulndesk.embargo import hooks as embargo_hooks  # noqa: PLC0415

        if notices.on_embargo_changed not in embargo_hooks.on_embargo_changed:
            embargo_hooks.on_embargo_changed.append(notices.on_embargo_changed)
        if notices.on_advisory_published not in advisory_hooks.on_published:
            advisory_hooks.on_published.append(notices.on_advisory_published)
