from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vulndesk.cases"
    label = "cases"

    def ready(self) -> None:
        # Publication may be the last step a case waits for: the advisories domain calls this.
        from vulndesk.advisories import hooks as advisory_hooks  # noqa: PLC0415 - apps are loading
        from vulndesk.cases import emailed_replies  # noqa: PLC0415
        from vulndesk.cases.actions import closing  # noqa: PLC0415
        from vulndesk.intake import hooks as intake_hooks  # noqa: PLC0415

        if closing.on_advisory_published not in advisory_hooks.on_published:
            advisory_hooks.on_published.append(closing.on_advisory_published)
        # Mail to a per-report reply address is a reporter's answer: the SMTP intake hands it here.
        if emailed_replies.RECEIVER not in intake_hooks.reply_receivers:
            intake_hooks.reply_receivers.append(emailed_replies.RECEIVER)
