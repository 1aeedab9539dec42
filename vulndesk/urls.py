from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from vulndesk.api import api
from vulndesk.intake import desk as intake_desk
from vulndesk.intake import views as intake_views
from vulndesk.notify import views as notify_views
from vulndesk.openpgp import views as openpgp_views
from vulndesk.projects import views as project_views
from vulndesk.web import views as web_views

urlpatterns = [
    path("", web_views.home, name="home"),
    path("healthz", web_views.healthz, name="healthz"),
    path(".well-known/security.txt", project_views.well_known_security_txt, name="well-known-security-txt"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("desk/", web_views.desk, name="desk"),
    path("desk/reports/", intake_desk.queue, name="report-queue"),
    path("desk/outbox/", notify_views.outbox, name="outbox"),
    path("desk/p/<slug:slug>/reports/<int:number>/", intake_desk.report_page, name="report-page"),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/messages/", intake_desk.post_message, name="report-message"
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/tracking-link/",
        intake_desk.tracking_link,
        name="report-tracking-link",
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/triage/", intake_desk.triage_decision, name="report-triage"
    ),
    path(
        "desk/p/<slug:slug>/reports/<int:number>/severity/", intake_desk.set_severity, name="report-severity"
    ),
    path("desk/p/<slug:slug>/reports/<int:number>/assign/", intake_desk.assign, name="report-assign"),
    path("desk/p/<slug:slug>/policy/", project_views.edit_policy, name="project-policy-edit"),
    path("p/<slug:slug>/", project_views.policy_page, name="project-policy"),
    path("p/<slug:slug>/report/", intake_views.report_form, name="report-form"),
    path("t/<str:token>/", intake_views.tracking_page, name="tracking"),
    path("p/<slug:slug>/SECURITY.md", project_views.security_md, name="project-security-md"),
    path("p/<slug:slug>/security.txt", project_views.security_txt, name="project-security-txt"),
    path("p/<slug:slug>/openpgp.asc", openpgp_views.project_key, name="project-openpgp-key"),
    path("api/v1/", api.urls),
]
