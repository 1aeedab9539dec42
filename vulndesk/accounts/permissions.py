"""The one permission vocabulary: ``scope:resource:action`` strings, and which role holds which.

Views and API operations name the permission they need; ``access_*`` helpers decide whether the
person holds it for the object at hand. The access-matrix test walks every route against these.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # Instance-wide administration.
    INSTANCE_PROJECT_CREATE = "instance:project:create"
    INSTANCE_USER_MANAGE = "instance:user:manage"
    INSTANCE_AUDIT_READ = "instance:audit:read"
    # A project's own settings.
    PROJECT_POLICY_READ = "project:policy:read"
    PROJECT_POLICY_EDIT = "project:policy:edit"
    PROJECT_TEAM_MANAGE = "project:team:manage"
    # Reports and cases of a project.
    PROJECT_REPORT_READ = "project:report:read"
    PROJECT_REPORT_TRIAGE = "project:report:triage"
    PROJECT_CASE_COORDINATE = "project:case:coordinate"
    PROJECT_ADVISORY_PUBLISH = "project:advisory:publish"
    # What a distributor member sees: only cases shared with the organisation, under embargo.
    EMBARGO_CASE_READ = "embargo:case:read"
    EMBARGO_STATUS_EDIT = "embargo:status:edit"
    # What a reporter holding a tracking link may do on that one report.
    TRACKING_REPORT_READ = "tracking:report:read"
    TRACKING_REPORT_REPLY = "tracking:report:reply"


class Role(StrEnum):
    ADMIN = "admin"
    TEAM = "team"
    # A team member who also manages the project's team: invites, roles, removals.
    LEAD = "lead"
    DISTRIBUTOR = "distributor"
    REPORTER = "reporter"


_TEAM = frozenset(
    {
        Permission.PROJECT_POLICY_READ,
        Permission.PROJECT_REPORT_READ,
        Permission.PROJECT_REPORT_TRIAGE,
        Permission.PROJECT_CASE_COORDINATE,
        Permission.PROJECT_ADVISORY_PUBLISH,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Admins hold every permission on every project.
    Role.ADMIN: frozenset(Permission),
    Role.TEAM: _TEAM,
    Role.LEAD: _TEAM | {Permission.PROJECT_TEAM_MANAGE},
    Role.DISTRIBUTOR: frozenset({Permission.EMBARGO_CASE_READ, Permission.EMBARGO_STATUS_EDIT}),
    Role.REPORTER: frozenset({Permission.TRACKING_REPORT_READ, Permission.TRACKING_REPORT_REPLY}),
}


def role_grants(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
