"""The policy editor's form, one section at a time, read from the policy's own schema.

Each field of a section (``policy.py``) becomes an input chosen by its type: a checkbox for a
flag, a number, a choice among a ``Literal``'s or an enum's values, one line per entry for a list,
a text area for long text. A new policy field therefore shows up in the form with no change here.
What the form sends is put back into the whole policy and checked by ``validate_policy``, so the
form, the TOML view, the API and the CLI give the same messages, each shown by its field.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from annotated_types import MaxLen
from django.http import QueryDict
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from vulndesk.projects.policy import Policy, PolicyError, validate_policy

LONG_TEXT = 2_000  # a str allowed more characters than this gets a text area


@dataclass
class FormField:
    key: str  # "sla.update_cadence_days.critical": the problem paths use the same words
    label: str
    widget: str  # checkbox, number, select, choices, lines, textarea, text, schema_only
    help: str = ""
    options: list[str] = field(default_factory=list)
    value: Any = ""
    problems: list[str] = field(default_factory=list)

    @property
    def input_id(self) -> str:
        return "policy-" + self.key.replace(".", "-").replace("_", "-")


@dataclass
class SectionForm:
    name: str
    label: str
    fields: list[FormField]
    problems: list[str] = field(default_factory=list)  # those no single field owns


def sections() -> list[tuple[str, str]]:
    return [(name, _label(name)) for name, info in Policy.model_fields.items() if _model(info.annotation)]


def section_form(policy: Policy, name: str) -> SectionForm:
    model = _section_model(name)
    current = policy.model_dump(mode="json")[name]
    return SectionForm(name, _label(name), list(_fields(model, name, current)))


def apply_section(policy: Policy, name: str, posted: QueryDict) -> Policy:
    """The policy with this section as the form sent it; PolicyError names each problem's field."""
    model = _section_model(name)
    document = policy.model_dump(mode="json", exclude_none=True)
    document[name] = _parse(model, name, posted, document.get(name, {}))
    return validate_policy(document)


def form_with_problems(form: SectionForm, posted: QueryDict, error: PolicyError) -> SectionForm:
    """The form as it was sent (nothing typed is lost), each problem beside its field."""
    by_key = {f.key: f for f in form.fields}
    for f in form.fields:
        f.value = _posted_value(f, posted)
    for problem in error.problems:
        path, _, message = problem.partition(": ")
        owner = _owner(path, by_key)
        if owner is None:
            form.problems.append(problem)
        else:
            owner.problems.append(message)
    return form


def _owner(path: str, by_key: dict[str, FormField]) -> FormField | None:
    parts = path.split(".")
    while parts:  # "contacts.intake_addresses.0" belongs to contacts.intake_addresses
        if ".".join(parts) in by_key:
            return by_key[".".join(parts)]
        parts.pop()
    return None


def _section_model(name: str) -> type[BaseModel]:
    info = Policy.model_fields.get(name)
    model = _model(info.annotation) if info is not None else None
    if model is None:
        raise KeyError(name)
    return model


def _model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


_ACRONYMS = {"sla": "SLA", "toml": "TOML", "url": "URL", "openpgp": "OpenPGP"}


def _label(name: str) -> str:
    words = name.split("_")
    text = " ".join(_ACRONYMS.get(word, word) for word in words)
    return text[0].upper() + text[1:] if text else text


def _fields(model: type[BaseModel], prefix: str, current: dict[str, Any]) -> typing.Iterator[FormField]:
    for name, info in model.model_fields.items():
        key = f"{prefix}.{name}"
        nested = _model(info.annotation)
        if nested is not None:
            yield from _fields(nested, key, current.get(name) or {})
            continue
        widget, options = _widget(info)
        yield FormField(
            key=key,
            label=_label(name) if prefix.count(".") == 0 else f"{_label(prefix.rsplit('.', 1)[1])}: {name}",
            widget=widget,
            help=info.description or "",
            options=options,
            value=_display(widget, current.get(name)),
        )


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``Annotated`` and ``X | None``, and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def _choices(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return []


def _widget(info: FieldInfo) -> tuple[str, list[str]]:
    annotation, _optional = _unwrap(info.annotation)
    if typing.get_origin(annotation) is list:
        item, _ = _unwrap(typing.get_args(annotation)[0])
        if _model(item) is not None:
            return "schema_only", []
        options = _choices(item)
        return ("choices", options) if options else ("lines", [])
    if annotation is bool:
        return "checkbox", []
    if annotation is int:
        return "number", []
    if options := _choices(annotation):
        return "select", options
    longest = max((m.max_length for m in info.metadata if isinstance(m, MaxLen)), default=0)
    return ("textarea" if longest > LONG_TEXT else "text"), []


def _display(widget: str, value: Any) -> Any:
    if widget == "lines":
        return "\n".join(str(v) for v in value or [])
    if widget == "choices":
        return [str(v) for v in value or []]
    if widget == "schema_only":
        return value
    return "" if value is None else value


def _posted_value(f: FormField, posted: QueryDict) -> Any:
    if f.widget == "choices":
        return posted.getlist(f.key)
    if f.widget == "checkbox":
        return f.key in posted
    if f.widget == "schema_only":
        return f.value
    return posted.get(f.key, "")


def _parse(model: type[BaseModel], prefix: str, posted: QueryDict, current: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}.{name}"
        nested = _model(info.annotation)
        if nested is not None:
            section[name] = _parse(nested, key, posted, current.get(name) or {})
            continue
        widget, _ = _widget(info)
        if widget == "schema_only":
            if name in current:
                section[name] = current[name]
            continue
        value = _parsed(widget, key, posted)
        if value is not None:
            section[name] = value
    return section


def _parsed(widget: str, key: str, posted: QueryDict) -> Any:
    if widget == "checkbox":
        return key in posted
    if widget == "choices":
        return posted.getlist(key)
    if widget == "lines":
        return [line.strip() for line in posted.get(key, "").splitlines() if line.strip()]
    text = posted.get(key, "").strip()
    if widget == "number":
        # Not a number: passed on as typed, so the policy's own check words the problem.
        return None if not text else int(text) if text.lstrip("-").isdigit() else text
    # An empty optional field is left out (the policy's default); a required one says so.
    return text or None
