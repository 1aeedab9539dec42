"""A project's security policy: the configuration of its whole disclosure process.

The policy is a TOML document (see ``examples/policies/``) validated by the models below. Every
error names the field at fault as a dotted path, e.g. ``sla.acknowledge_working_days``. The
stored form is the JSON dump of a validated ``Policy``; export writes it back as TOML, and an
export re-imports to the same policy.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SCHEMA_VERSION: Literal[1] = 1

_EMAIL = re.compile(r"^[^@\s<>\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$|^[^@\s<>\"]+@localhost$")
_URL = re.compile(r"^https://[^\s]+$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value.lower()


def _check_url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError(f"{value!r} is not an https:// URL")
    return value


Email = Annotated[str, Field(max_length=254)]
Url = Annotated[str, Field(max_length=2000)]
Text = Annotated[str, Field(max_length=20_000)]
Line = Annotated[str, Field(min_length=1, max_length=2_000)]


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """Monday is 0, as in ``date.weekday()``."""
        return list(Weekday).index(self)


class ReportField(StrEnum):
    """What a report form may ask for: the seed's "proposed email content", one key each."""

    IDENTITY = "identity"
    AFFILIATION = "affiliation"
    ISSUE_TYPE = "issue_type"
    SOURCE_PATHS = "source_paths"
    CODE_LOCATION = "code_location"
    SPECIAL_CONFIGURATION = "special_configuration"
    REPRODUCTION_STEPS = "reproduction_steps"
    PROOF_OF_CONCEPT = "proof_of_concept"
    IMPACT = "impact"
    EFFECTS = "effects"
    ATTACK_SURFACE = "attack_surface"
    RELATED_PROJECTS = "related_projects"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, str_strip_whitespace=True)


class ProjectSection(_Section):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    security_team: Annotated[str, Field(min_length=1, max_length=200)]
    advisory_prefix: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")]
    homepage: Url | None = None
    repository: Url | None = None
    description: Text = ""

    _urls = field_validator("homepage", "repository")(lambda v: v if v is None else _check_url(v))


class Contacts(_Section):
    intake_addresses: Annotated[list[Email], Field(min_length=1)]
    coordination_address: Email | None = None
    security_announce_list: Email | None = None
    security_announce_url: Url | None = None
    distributors_list: Email | None = None
    openpgp_key_fingerprint: Annotated[str, Field(pattern=r"^[0-9A-F]{40}$")] | None = None
    external_policy_url: Url | None = None

    @field_validator("intake_addresses")
    @classmethod
    def _intake(cls, value: list[str]) -> list[str]:
        checked = [_check_email(v) for v in value]
        if len(set(checked)) != len(checked):
            raise ValueError("an intake address is listed twice")
        return checked

    _emails = field_validator("coordination_address", "security_announce_list", "distributors_list")(
        lambda v: v if v is None else _check_email(v)
    )
    _urls = field_validator("security_announce_url", "external_policy_url")(
        lambda v: v if v is None else _check_url(v)
    )


class Calendar(_Section):
    timezone: str
    weekend: list[Weekday] = [Weekday.SATURDAY, Weekday.SUNDAY]
    holiday_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    holiday_subdivision: str | None = None
    extra_holidays: list[dt.date] = []

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone such as 'Europe/Rome'") from None
        return value

    @field_validator("weekend")
    @classmethod
    def _weekend(cls, value: list[Weekday]) -> list[Weekday]:
        if len(set(value)) != len(value) or len(value) >= len(Weekday):
            raise ValueError("list each weekend day once, and leave at least one working day")
        return value

    @model_validator(mode="after")
    def _country(self) -> Self:
        if self.holiday_country is None:
            if self.holiday_subdivision:
                raise ValueError("holiday_subdivision: needs a holiday_country")
            return self
        supported = holidays.list_supported_countries()
        if self.holiday_country not in supported:
            raise ValueError(f"holiday_country: {self.holiday_country!r} is not a country the calendar knows")
        if self.holiday_subdivision and self.holiday_subdivision not in supported[self.holiday_country]:
            raise ValueError(
                f"holiday_subdivision: {self.holiday_subdivision!r} "
                f"is not a subdivision of {self.holiday_country}"
            )
        return self


PositiveDays = Annotated[int, Field(ge=1, le=365)]


class UpdateCadence(_Section):
    """Calendar days without an update to the reporter before the team is reminded, by severity."""

    critical: PositiveDays
    high: PositiveDays
    medium: PositiveDays
    low: PositiveDays


class Sla(_Section):
    acknowledge_working_days: PositiveDays
    first_reply_working_days: PositiveDays
    triage_decision_working_days: PositiveDays
    needs_info_days: PositiveDays = Field(
        default=14, description="Days to wait for a reporter's answer before the report closes."
    )
    update_cadence_days: UpdateCadence

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.first_reply_working_days < self.acknowledge_working_days:
            raise ValueError("first_reply_working_days: cannot come before acknowledge_working_days")
        return self


class Disclosure(_Section):
    default_embargo_days: PositiveDays
    maximum_embargo_days: PositiveDays
    fix_to_disclosure: Annotated[int, Field(ge=0, le=365)]
    fix_to_disclosure_unit: Literal["calendar_days", "business_days"]
    fix_to_disclosure_applies_to: Literal["any", "critical"] = "any"
    publication_weekdays: Annotated[list[Weekday], Field(min_length=1)]
    publication_hour: Annotated[int, Field(ge=0, le=23)]
    distributor_min_notice_days: Annotated[int, Field(ge=0, le=90)] = 0
    distributor_final_notice_hours: Annotated[int, Field(ge=0, le=168)] = 24
    final_say: Annotated[str, Field(min_length=1, max_length=200)]
    negotiated_with: list[Literal["reporter", "distributors"]] = ["reporter"]
    disclose_immediately_if_public: bool = True
    advisory_channels: list[Line] = []
    announcement_channels: list[Line] = []
    statement: Text = ""

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.maximum_embargo_days < self.default_embargo_days:
            raise ValueError("maximum_embargo_days: cannot be shorter than default_embargo_days")
        return self


class SupportedVersions(_Section):
    mode: Literal["recent_minor", "explicit", "none"]
    count: Annotated[int, Field(ge=1, le=50)] | None = None
    versions: list[Annotated[str, Field(min_length=1, max_length=100)]] = []
    backports: Text = ""
    note: Text = ""

    @model_validator(mode="after")
    def _mode(self) -> Self:
        if self.mode == "recent_minor" and self.count is None:
            raise ValueError("count: mode 'recent_minor' needs count, how many minor releases are supported")
        if self.mode != "recent_minor" and self.count is not None:
            raise ValueError(f"count: only applies to mode 'recent_minor', not {self.mode!r}")
        if self.mode == "explicit" and not self.versions:
            raise ValueError("versions: mode 'explicit' needs versions")
        if self.mode != "explicit" and self.versions:
            raise ValueError(f"versions: only apply to mode 'explicit', not {self.mode!r}")
        return self


class FieldRequest(_Section):
    name: ReportField
    required: bool = False


DEFAULT_FIELDS = [FieldRequest(name=name) for name in ReportField]


class ReporterGuidance(_Section):
    preferred_languages: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]], Field(min_length=1)
    ] = ["en"]
    introduction: Text = ""
    report_when: list[Line] = []
    do_not_report_when: list[Line] = []
    guidelines: list[Line] = []
    publicly_known: Text = ""
    # The team's acknowledgement to the reporter; empty: vulndesk's own words
    # (cases/actions/acknowledgement.py).
    acknowledgement: Text = ""
    fields: list[FieldRequest] = DEFAULT_FIELDS

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[FieldRequest]) -> list[FieldRequest]:
        names = [f.name for f in value]
        if len(set(names)) != len(names):
            raise ValueError("a report field is listed twice")
        return value


class Distributors(_Section):
    enabled: bool = False
    membership_criteria: list[Line] = []
    embargo_policy: Text = ""
    embargo_policy_version: Annotated[str, Field(max_length=40)] = ""
    leaks_before_removal: Annotated[int, Field(ge=1, le=10)] = 2
    how_to_join: Text = ""

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.enabled and not (
            self.membership_criteria and self.embargo_policy and self.embargo_policy_version
        ):
            raise ValueError(
                "membership_criteria: an enabled distributors list needs membership_criteria, "
                "embargo_policy and embargo_policy_version"
            )
        return self


class Impact(StrEnum):
    CONFIDENTIALITY = "confidentiality"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"


class Severity(_Section):
    highest_priority_impacts: list[Impact] = []
    statement: Text = ""


class DuplicateCredit(StrEnum):
    """Who of several people who reported the same issue is credited in its advisory."""

    FIRST_REPORTER = "first_reporter"
    REPORTERS_BEFORE_FIX = "reporters_before_fix"
    EVERY_REPORTER = "every_reporter"


class Credit(_Section):
    # The default keeps what vulndesk always did: the advisory credits the original report's sender.
    duplicates: DuplicateCredit = DuplicateCredit.FIRST_REPORTER


class Policy(_Section):
    schema_version: Literal[1] = SCHEMA_VERSION
    project: ProjectSection
    contacts: Contacts
    calendar: Calendar
    sla: Sla
    disclosure: Disclosure
    supported_versions: SupportedVersions
    reporter_guidance: ReporterGuidance = ReporterGuidance()
    distributors: Distributors = Distributors()
    severity: Severity = Severity()
    credit: Credit = Credit()

    @model_validator(mode="after")
    def _distributors_need_a_list(self) -> Self:
        if self.distributors.enabled and not self.contacts.distributors_list:
            raise ValueError("contacts.distributors_list: is required when distributors.enabled is true")
        if "distributors" in self.disclosure.negotiated_with and not self.distributors.enabled:
            raise ValueError(
                "disclosure.negotiated_with: names distributors, but distributors.enabled is false"
            )
        return self

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def as_toml(self) -> str:
        return tomli_w.dumps(_strip_enums(self.model_dump(mode="python", exclude_none=True)))


class PolicyError(ValueError):
    """A policy that does not validate; ``problems`` lists each as 'field.path: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def parse_policy_toml(text: str) -> Policy:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([f"not valid TOML: {exc}"]) from None
    return validate_policy(document)


def validate_policy(document: dict[str, Any]) -> Policy:
    try:
        return Policy.model_validate(document)
    except ValidationError as exc:
        raise PolicyError([_describe(error) for error in exc.errors()]) from None


_FIELD_PREFIX = re.compile(r"^(?P<field>[a-z_]+(?:\.[a-z_]+)*): (?P<rest>.*)$", re.DOTALL)


def _describe(error: Any) -> str:
    path = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    # A cross-field check names its field as "field: problem"; place it under the section's path.
    named = _FIELD_PREFIX.match(message)
    if named:
        path = f"{path}.{named['field']}" if path else named["field"]
        message = named["rest"]
    path = path or "policy"
    if error["type"] == "extra_forbidden":
        message = "is not a policy field (check the spelling)"
    elif error["type"] == "missing":
        message = "is required"
    return f"{path}: {message}"


def _strip_enums(value: Any) -> Any:
    """tomli-w writes plain types only: turn enum members into their string values."""
    if isinstance(value, dict):
        return {key: _strip_enums(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strip_enums(item) for item in value]
    if isinstance(value, StrEnum):
        return str(value)
    return value
