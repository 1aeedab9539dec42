"""The OpenAPI document as a client generator reads it: every reference resolves, and every
refusal the API answers is documented for its operation with the body it really has."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pytest_django.fixtures import Settings
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from vulndesk.accounts.actions import do_create_api_token
from vulndesk.accounts.models import User
from vulndesk.cases.models import Triage
from vulndesk.projects.models import Project

from .conftest import a_report

pytestmark = pytest.mark.django_db
DOCUMENT_URI = "urn:vulndesk:openapi"


def _document(client: Client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return document


def _references(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


def _resolve(document: dict[str, Any], reference: str) -> object:
    assert reference.startswith("#/"), reference
    node: Any = document
    for escaped in reference.removeprefix("#/").split("/"):
        part = escaped.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), reference
        assert part in node, f"{reference} does not resolve"
        node = node[part]
    return node


def test_every_reference_in_the_openapi_document_resolves(client: Client, project_a: Project) -> None:
    document = _document(client)
    references = set(_references(document))
    assert "#/components/schemas/Weekday" in references  # from the policy, nested in the PUT body
    for reference in sorted(references):
        _resolve(document, reference)
    assert "$defs" not in json.dumps(document)


def test_the_policy_body_names_its_models_as_components(client: Client, project_a: Project) -> None:
    document = _document(client)
    body = document["paths"]["/api/v1/projects/{slug}/policy"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["properties"]["calendar"] == {"$ref": "#/components/schemas/Calendar"}
    assert "Weekday" in document["components"]["schemas"]
    # The document is built the same way every time (nothing hoisted out of the route once only).
    assert _document(client) == document


def _check_documented(client: Client, path: str, method: str, response: Any) -> None:
    """The answer's status is listed for the operation, and its JSON body matches that schema."""
    document = _document(client)
    responses = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answers {status}, documented: {sorted(responses)}"
    assert response["Content-Type"].startswith("application/json")
    schema = responses[status]["content"]["application/json"]["schema"]
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": DOCUMENT_URI + schema["$ref"]}, registry=registry)
    validator.validate(json.loads(response.content))


def test_a_missing_or_bad_token_answers_the_documented_401(client: Client, alice: User) -> None:
    _check_documented(client, "/api/v1/me", "get", client.get("/api/v1/me"))
    forged = client.get("/api/v1/reports", headers={"Authorization": "Bearer vd_forged"})
    assert forged.status_code == 401
    _check_documented(client, "/api/v1/reports", "get", forged)


def test_a_project_that_does_not_exist_answers_the_documented_404(client: Client, project_a: Project) -> None:
    missing = client.get("/api/v1/projects/no-such-project/policy")
    assert missing.status_code == 404
    _check_documented(client, "/api/v1/projects/{slug}/policy", "get", missing)


def test_a_nul_character_answers_the_documented_400(client: Client, project_a: Project) -> None:
    body = json.dumps({"title": "t\u0000", "description": "d"})
    refused = client.post("/api/v1/projects/llm-d/reports", body, content_type="application/json")
    assert refused.status_code == 400
    _check_documented(client, "/api/v1/projects/{slug}/reports", "post", refused)


@pytest.mark.parametrize("body", ["false", "true", "[]", "1", "not json", "null"])
def test_a_body_that_is_not_a_json_object_answers_the_documented_400(
    client: Client, alice: User, body: str
) -> None:
    report = a_report(alice.memberships.get().project)
    path = f"/api/v1/projects/llm-d/reports/{report.number}/acknowledge"
    bearer = {"Authorization": f"Bearer {do_create_api_token(alice, acting_user=None).raw}"}
    refused = client.post(path, body, content_type="application/json", headers=bearer)
    assert refused.status_code == 400
    _check_documented(client, "/api/v1/projects/{slug}/reports/{number}/acknowledge", "post", refused)
    assert Triage.objects.filter(report=report, acknowledged_at__isnull=False).count() == 0


def test_an_oversized_body_answers_the_documented_413(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.MAX_REPORT_REQUEST_BYTES = 65536
    body = json.dumps({"title": "t", "description": "d" * 70000})
    refused = client.post("/api/v1/projects/llm-d/reports", body, content_type="application/json")
    assert refused.status_code == 413
    _check_documented(client, "/api/v1/projects/{slug}/reports", "post", refused)


def test_a_parameter_that_does_not_validate_answers_the_documented_422(client: Client, alice: User) -> None:
    token = do_create_api_token(alice, acting_user=None).raw
    invalid = client.get("/api/v1/reports?limit=none", headers={"Authorization": f"Bearer {token}"})
    assert invalid.status_code == 422
    _check_documented(client, "/api/v1/reports", "get", invalid)


def test_too_many_reports_answer_the_documented_429(
    client: Client, project_a: Project, settings: Settings
) -> None:
    settings.INTAKE_PER_ADDRESS_PER_HOUR = 1
    body = json.dumps({"title": "t", "description": "d"})
    first = client.post("/api/v1/projects/llm-d/reports", body, content_type="application/json")
    assert first.status_code == 201
    refused = client.post("/api/v1/projects/llm-d/reports", body, content_type="application/json")
    assert refused.status_code == 429
    _check_documented(client, "/api/v1/projects/{slug}/reports", "post", refused)
    assert int(refused["Retry-After"]) > 0
    documented = _document(client)["paths"]["/api/v1/projects/{slug}/reports"]["post"]["responses"]["429"]
    assert documented["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
