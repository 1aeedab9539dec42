from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from vulndesk.accounts import link_views, self_service
from vulndesk.accounts import views as account_views
from vulndesk.advisories import desk as advisory_desk
from vulndesk.advisories import views as advisory_views
from vulndesk.advisories.exports import views as export_views
from vulndesk.api import api
from vulndesk.cases import (
    calculator_views,
    metrics_views,
    needs_evidence,
    queue_views,
    saved_reply_views,
)
from vulndesk.cases import decisions as case_decisions
from vulndesk.cases import page as case_page
from vulndesk.cases import tracking as case_tracking
from vulndesk.cases import views as case_views
from vulndesk.desk import my_work
from vulndesk.distributors import desk_views as distributor_desk
from vulndesk.distributors import portal_views as distributor_portal
from vulndesk.distributors import public_views as distributor_public
from vulndesk.embargo import views as embargo_views
from vulndesk.intake import attachments as intake_attachments
from vulndesk.intake import views as intake_views
from vulndesk.notify import views as notify_views
from vulndesk.openpgp import views as openpgp_views
from vulndesk.projects import team_views, webhook_views
from vulndesk.projects import views as project_views
from vulndesk.web import views as web_views

urlpatterns = [
    path("", project_views.home, name="home"),
    path("healthz", web_views.healthz, name="healthz"),
    path(".well-known/security.txt", project_views.well_known_security_txt, name="well-known-security-txt"),
    path(
        ".well-known/csaf/provider-metadata.json",
        export_views.csaf_provider_metadata,
        name="csaf-provider-metadata",
    ),
    path("accounts/login/", account_views.sign_in, name="login"),
    path("accounts/login/code/", account_views.verify, name="login-verify"),
    path("accounts/login/setup/", account_views.setup, name="login-setup"),
    path("accounts/confirm/", account_views.reauthenticate, name="reauthenticate"),
    path("accounts/password-reset/", link_views.forgot_password, name="password-reset"),
    path("accounts/password-reset/<str:token>/", link_views.reset_password, name="password-reset-link"),
    path("accounts/invitation/<str:token>/", link_views.accept_invitation, name="team-invitation"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", self_service.account, name="account"),
    path("accounts/password/", self_service.change_password, name="account-password"),
    path("accounts/recovery-codes/", self_service.renew_recovery_codes, name="account-recovery-codes"),
    path("accounts/notices/", self_service.set_notices, name="account-notices"),
    path("accounts/tokens/", self_service.create_token, name="account-token-create"),
    path("accounts/tokens/<int:token_id>/revoke/", self_service.revoke_token, name="account-token-revoke"),
    path("desk/", my_work.desk, name="desk"),
    path("desk/teams/", team_views.teams, name="teams"),
    path("desk/p/<slug:slug>/team/", team_views.project_team, name="project-team"),
    path("desk/reports/", queue_views.queue, name="report-queue"),
    path("desk/reports/bulk/", queue_views.bulk_action, name="report-queue-bulk"),
    path("desk/metrics/", metrics_views.instance_metrics, name="metrics"),
    path("desk/metrics.csv", metrics_views.instance_metrics_csv, name="metrics-csv"),
    path("desk/p/<slug:slug>/metrics/", metrics_views.project_metrics, name="project-metrics"),
    path("desk/p/<slug:slug>/metrics.csv", metrics_views.project_metrics_csv, name="project-metrics-csv"),
    path("desk/outbox/", notify_views.outbox, name="outbox"),
    path(
        "desk/outbox/mail/<uuid:uid>/retry/", notify_views.retry, {"outbox": "mail"}, name="outbox-retry-mail"
    ),
    path(
        "desk/outbox/webhooks/<uuid:uid>/retry/",
        notify_views.retry,
        {"outbox": "webhooks"},
        name="outbox-retry-webhook",
    ),
    path("desk/p/<slug:slug>/webhooks/", webhook_views.project_webhooks, name="project-webhooks"),
    path("desk/p/<slug:slug>/reports/<int:number>/", case_page.report_page, name="report-page"),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/attachments/<uuid:attachment>/",
        intake_attachments.team_download,
        name="report-attachment",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/messages/",
        case_decisions.post_message,
        name="report-message",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/tracking-link/",
        case_decisions.tracking_link,
        name="report-tracking-link",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/release/",
        case_decisions.release_from_quarantine,
        name="report-release",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/triage/",
        case_decisions.triage_decision,
        name="report-triage",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/severity/",
        case_decisions.set_severity,
        name="report-severity",
    ),
    path("desk/p/<slug:slug>/reports/<int:number>/assign/", case_decisions.assign, name="report-assign"),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/acknowledge/",
        case_decisions.acknowledge,
        name="report-acknowledge",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/edit/<slug:section>/",
        case_page.section_page,
        name="report-section",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/severity/score/",
        calculator_views.score,
        name="report-severity-score",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/affected/", case_views.set_affected, name="report-affected"
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/backports/", case_views.set_backport, name="report-backport"
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/fix-plan/", case_views.set_fix_plan, name="report-fix-plan"
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/advisory/",
        advisory_desk.draft_from_report,
        name="report-draft-advisory",
    ),
    path("desk/p/<slug:slug>/advisories/", advisory_desk.advisory_list, name="advisory-desk-list"),
    path("desk/p/<slug:slug>/advisories/<str:identifier>/", advisory_desk.edit, name="advisory-edit"),
    path(
        "desk/p/<slug:slug>/advisories/<str:identifier>/preview/",
        advisory_desk.preview,
        name="advisory-preview",
    ),
    path("desk/p/<slug:slug>/advisories/<str:identifier>/diff/", advisory_desk.diff, name="advisory-diff"),
    path(
        "desk/p/<slug:slug>/advisories/<str:identifier>/publish/",
        advisory_desk.publish,
        name="advisory-publish",
    ),
    path(
        "desk/p/<slug:slug>/advisories/<str:identifier>/<slug:action>/",
        advisory_desk.act,
        name="advisory-action",
    ),
    path("advisories/", advisory_views.all_advisories, name="all-advisories"),
    path("p/<slug:slug>/advisories/", advisory_views.advisory_list, name="advisory-list"),
    path("p/<slug:slug>/advisories.atom", advisory_views.atom_feed, name="advisory-feed"),
    path("p/<slug:slug>/advisories.json", advisory_views.json_index, name="advisory-index"),
    path("p/<slug:slug>/feed.json", advisory_views.json_feed, name="advisory-json-feed"),
    path("p/<slug:slug>/advisories/<str:identifier>/", advisory_views.advisory_page, name="advisory-page"),
    path("p/<slug:slug>/announce/", advisory_views.subscribe, name="announce-subscribe"),
    path("p/<slug:slug>/announce/confirm/<str:token>/", advisory_views.confirm, name="announce-confirm"),
    path(
        "p/<slug:slug>/announce/unsubscribe/<str:token>/",
        advisory_views.unsubscribe,
        name="announce-unsubscribe",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/embargo/", embargo_views.team_embargo, name="report-embargo"
    ),
    path("t/<str:token>/embargo/", embargo_views.reporter_embargo, name="tracking-embargo"),
    path("desk/p/<slug:slug>/needs-evidence/", needs_evidence.needs_evidence, name="needs-evidence"),
    path(
        "desk/p/<slug:slug>/needs-evidence/<int:number>/request/",
        needs_evidence.request_evidence,
        name="needs-evidence-request",
    ),
    path("desk/p/<slug:slug>/saved-replies/", saved_reply_views.saved_replies, name="saved-replies"),
    path(
        "desk/p/<slug:slug>/saved-replies/<int:reply_id>/",
        saved_reply_views.edit_saved_reply,
        name="saved-reply-edit",
    ),
    path(
        "desk/p/<slug:slug>/saved-replies/<int:reply_id>/delete/",
        saved_reply_views.delete_saved_reply,
        name="saved-reply-delete",
    ),
    path("desk/p/<slug:slug>/releases/", project_views.releases, name="project-releases"),
    path("desk/p/<slug:slug>/policy/", project_views.edit_policy, name="project-policy-edit"),
    path("desk/p/<slug:slug>/policy/diff/", project_views.policy_diff, name="project-policy-diff"),
    path("p/<slug:slug>/", project_views.policy_page, name="project-policy"),
    path("p/<slug:slug>/report/", intake_views.report_form, name="report-form"),
    path("t/<str:token>/", case_tracking.tracking_page, name="tracking"),
    path(
        "t/<str:token>/attachments/<uuid:attachment>/",
        intake_attachments.reporter_download,
        name="tracking-attachment",
    ),
    path("p/<slug:slug>/SECURITY.md", project_views.security_md, name="project-security-md"),
    path("p/<slug:slug>/security.txt", project_views.security_txt, name="project-security-txt"),
    path("p/<slug:slug>/openpgp.asc", openpgp_views.project_key, name="project-openpgp-key"),
    path(
        "p/<slug:slug>/advisories/<str:identifier>/<str:format_name>.json",
        export_views.advisory_export,
        name="advisory-export",
    ),
    path("p/<slug:slug>/csaf/index.txt", export_views.csaf_index, name="csaf-index"),
    path("p/<slug:slug>/csaf/changes.csv", export_views.csaf_changes, name="csaf-changes"),
    path("p/<slug:slug>/csaf/feed-tlp-white.json", export_views.csaf_feed, name="csaf-feed"),
    path("p/<slug:slug>/csaf/feed-tlp-white.atom", export_views.csaf_atom_feed, name="csaf-atom-feed"),
    path(
        "p/<slug:slug>/csaf/<int:year>/<str:file_name>",
        export_views.csaf_document,
        name="csaf-document",
    ),
    path("p/<slug:slug>/distributors/apply/", distributor_public.apply, name="distributor-apply"),
    path("distributor/", distributor_portal.portal, name="distributor-portal"),
    path(
        "distributor/welcome/<str:uidb64>/<str:token>/",
        distributor_public.welcome,
        name="distributor-welcome",
    ),
    path(
        "distributor/p/<slug:slug>/policy/",
        distributor_portal.accept_policy,
        name="distributor-accept-policy",
    ),
    path(
        "distributor/p/<slug:slug>/vouch/<int:organisation_id>/",
        distributor_portal.vouch,
        name="distributor-vouch",
    ),
    path("distributor/p/<slug:slug>/cases/<int:number>/", distributor_portal.case, name="distributor-case"),
    path(
        "distributor/p/<slug:slug>/cases/<int:number>/attachments/<uuid:attachment>/",
        distributor_portal.case_attachment,
        name="distributor-attachment",
    ),
    path(
        "distributor/p/<slug:slug>/cases/<int:number>/act/",
        distributor_portal.case_act,
        name="distributor-case-act",
    ),
    path("t/<str:token>/leak/", distributor_public.tracking_leak, name="tracking-leak"),
    path(
        "desk/p/<slug:slug>/distributors/",
        distributor_desk.project_distributors,
        name="project-distributors",
    ),
    path(
        "desk/p/<slug:slug>/distributors/<int:organisation_id>/",
        distributor_desk.organisation_act,
        name="project-distributor-act",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/distributors/",
        distributor_desk.report_distributors,
        name="report-distributors",
    ),
    path("api/v1/", api.urls),
]
