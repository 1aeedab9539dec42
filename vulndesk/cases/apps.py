from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vulndesk.cases"
    label = "cases"

    def ready(self) -> None:
        # Apps are loading: these modules import models, so they are imported here.
        from django.db.models.signals import post_save  # noqa: PLC0415

        from vulndesk.advisories import hooks as advisory_hooks  # noqa: PLC0415
        from vulndesk.audit.models import AuditEvent  # noqa: PLC0415
        from vulndesk.cases import emailed_replies, queue_entries  # noqa: PLC0415
        from vulndesk.cases.actions import closing  # noqa: PLC0415
        from vulndesk.intake import hooks as intake_hooks  # noqa: PLC0415

        # Every change to a report is an audit event naming it: its queue entry follows.
        post_save.connect(queue_entries.on_audit_event, sender=AuditEvent, dispatch_uid="queue-entries")
        # Publication may be the last step a case waits for: the advisories domain calls this.
        if closing.on_advisory_published not in advisory_hooks.on_published:
            advisory_hooks.on_published.append(closing.on_advisory_published)
        # Mail to a per-report reply address is a reporter's answer: the SMTP intake hands it here.
        if emailed_replies.RECEIVER not in intake_hooks.reply_receivers:
            intake_hooks.reply_receivers.append(emailed_replies.RECEIVER)
