from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vulndesk.cases"
    label = "cases"

    def ready(self) -> None:
        # Apps are loading: these modules import models, so they are imported here.
        from django.db.models.signals import post_save  # noqa: PLC0415

        from vulndesk.audit.models import AuditEvent  # noqa: PLC0415
        from vulndesk.cases import (  # noqa: PLC0415
            emailed_replies,
            evidence,
            queue_entries,
        )
        from vulndesk.intake import hooks as intake_hooks  # noqa: PLC0415

        # Every change to a report is an audit event naming it: its queue entry follows.
        post_save.connect(queue_entries.on_audit_event, sender=AuditEvent, dispatch_uid="queue-entries")
        # A new report's evidence is read in the transaction that stores it.
        if evidence.on_report_received not in intake_hooks.on_report_received:
            intake_hooks.on_report_received.append(evidence.on_report_received)
        # Its acknowledgement goes first in the outbox when it carries evidence.
        if evidence.carries_evidence not in intake_hooks.carries_evidence:
            intake_hooks.carries_evidence.append(evidence.carries_evidence)
        # Mail to a per-report reply address is a reporter's answer: the SMTP intake hands it here.
        if emailed_replies.RECEIVER not in intake_hooks.reply_receivers:
            intake_hooks.reply_receivers.append(emailed_replies.RECEIVER)
