from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from vulndesk.accounts.permissions import Permission
from vulndesk.accounts.token_auth import TokenAuth, token_caller
from vulndesk.projects.access import access_project, access_public_project
from vulndesk.projects.actions import do_update_policy
from vulndesk.projects.models import Project
from vulndesk.projects.policy import Policy, PolicyError, validate_policy

router = Router(tags=["projects"])


class ProjectOut(Schema):
    slug: str
    name: str
    security_team: str
    policy_version: int
    is_example: bool


class PolicyOut(Schema):
    slug: str
    version: int
    policy: dict[str, Any]


class PolicyProblems(Schema):
    detail: str
    problems: list[str]


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PolicyError(["policy: the request body is not JSON"]) from None
    if not isinstance(document, dict):
        raise PolicyError(["policy: the request body must be a JSON object"])
    return document


def _project_out(project: Project) -> ProjectOut:
    return ProjectOut(
        slug=project.slug,
        name=project.name,
        security_team=project.policy.project.security_team,
        policy_version=project.policy_version,
        is_example=project.is_example,
    )


@router.get("", response=list[ProjectOut], summary="Every project on this instance")
def list_projects(request: HttpRequest) -> list[ProjectOut]:
    return [_project_out(p) for p in Project.objects.order_by("name")]


@router.get("/{slug}", response=ProjectOut, summary="One project")
def get_project(request: HttpRequest, slug: str) -> ProjectOut:
    return _project_out(access_public_project(slug))


@router.get("/{slug}/policy", response=PolicyOut, summary="A project's security policy (public)")
def get_policy(request: HttpRequest, slug: str) -> PolicyOut:
    project = access_public_project(slug)
    return PolicyOut(slug=project.slug, version=project.policy_version, policy=project.policy_document)


@router.put(
    "/{slug}/policy",
    response={200: PolicyOut, 422: PolicyProblems},
    auth=TokenAuth(),
    summary="Replace a project's security policy",
    # The body is read whole and validated by the policy schema itself, so that every problem is
    # named as "field.path: what is wrong", the same words the CLI and the web editor use.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Policy.model_json_schema(mode="validation")}},
        }
    },
)
def put_policy(request: HttpRequest, slug: str) -> Status[PolicyOut | PolicyProblems]:
    user = token_caller(request, Permission.PROJECT_POLICY_EDIT)
    project = access_project(slug, user, Permission.PROJECT_POLICY_EDIT)
    try:
        policy = validate_policy(_json_object(request.body))
        project = do_update_policy(project, policy, acting_user=user)
    except PolicyError as exc:
        return Status(422, PolicyProblems(detail="the policy does not validate", problems=exc.problems))
    return Status(
        200, PolicyOut(slug=project.slug, version=project.policy_version, policy=project.policy_document)
    )
