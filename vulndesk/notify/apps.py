from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "vulndesk.notify"
    label = "notify"

    def ready(self) -> None:
        # Apps are loading: the emails module imports models, so it is imported here.
        from vulndesk.audit import hooks as audit_hooks  # noqa: PLC0415
        from vulndesk.notify.emails import queue_audit_checkpoint  # noqa: PLC0415

        # A checkpoint to a mailto: destination is a mail like any other: the outbox sends it.
        if queue_audit_checkpoint not in audit_hooks.checkpoint_mailers:
            audit_hooks.checkpoint_mailers.append(queue_audit_checkpoint)
