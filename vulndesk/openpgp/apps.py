from django.apps import AppConfig


class OpenPGPConfig(AppConfig):
    name = "vulndesk.openpgp"
    label = "openpgp"
    verbose_name = "OpenPGP"

    def ready(self) -> None:
        # Apps are loading: the outbound module imports models, so it is imported here.
        from vulndesk.notify import hooks as notify_hooks  # noqa: PLC0415
        from vulndesk.openpgp.outbound import for_recipient  # noqa: PLC0415
        from vulndesk.openpgp.signing import signed_by_project  # noqa: PLC0415
        from vulndesk.projects import hooks as project_hooks  # noqa: PLC0415

        # The outbox sends; how a mail is encrypted and signed for its recipient is ours.
        if for_recipient not in notify_hooks.mail_sealers:
            notify_hooks.mail_sealers.append(for_recipient)
        # security.txt is the project's text; signing it with the project's key is ours.
        if signed_by_project not in project_hooks.text_signers:
            project_hooks.text_signers.append(signed_by_project)
