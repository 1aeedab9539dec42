"""The promises a policy makes, as sentences: one source for the policy page and SECURITY.md."""

from __future__ import annotations

from django.conf.locale import LANG_INFO

from vulndesk.projects.policy import DuplicateCredit, Policy, ReportField, SupportedVersions, Weekday

FIELD_LABELS: dict[ReportField, str] = {
    ReportField.IDENTITY: "Your name (or stay anonymous)",
    ReportField.AFFILIATION: "Your affiliation or company",
    ReportField.ISSUE_TYPE: "Type of issue (e.g. buffer overflow, SQL injection, cross-site scripting)",
    ReportField.SOURCE_PATHS: "Full paths of the source files related to the issue",
    ReportField.CODE_LOCATION: "Location of the affected source code (tag, branch, commit or direct URL)",
    ReportField.SPECIAL_CONFIGURATION: "Any special configuration required to reproduce the issue",
    ReportField.REPRODUCTION_STEPS: "Detailed steps to reproduce the vulnerability",
    ReportField.PROOF_OF_CONCEPT: "Proof-of-concept or exploit code",
    ReportField.IMPACT: "Impact of the issue, including how an attacker might exploit it",
    ReportField.EFFECTS: "Effects on the project and the related hardware and software configurations",
    ReportField.ATTACK_SURFACE: "How the vulnerability affects usage, and an estimate of the attack surface",
    ReportField.RELATED_PROJECTS: "Other projects or dependencies used with the project to produce it",
}


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def weekdays(days: list[Weekday]) -> str:
    return join_words([day.value.capitalize() for day in days])


def calendar_sentence(policy: Policy) -> str:
    cal = policy.calendar
    parts = [f"Working days are counted in the {cal.timezone} timezone"]
    parts.append(f"excluding {weekdays(cal.weekend)}" if cal.weekend else "with no weekend days")
    if cal.holiday_country:
        region = (
            f"{cal.holiday_country}-{cal.holiday_subdivision}"
            if cal.holiday_subdivision
            else cal.holiday_country
        )
        parts.append(f"and public holidays in {region}")
    return " ".join(parts) + "."


def response_commitments(policy: Policy) -> list[str]:
    sla, team = policy.sla, policy.project.security_team
    cadence = sla.update_cadence_days
    return [
        f"Each report is acknowledged within {plural(sla.acknowledge_working_days, 'working day')}.",
        (
            f"The {team} starts a conversation with the reporter within "
            f"{plural(sla.first_reply_working_days, 'working day')}."
        ),
        (
            f"A triage decision is made within {plural(sla.triage_decision_working_days, 'working day')}; "
            "a report that is not a vulnerability is rejected with a detailed reason."
        ),
        (
            "As the issue moves from triage to an identified fix to release planning, the reporter is kept "
            f"updated: at least every {plural(cadence.critical, 'day')} for a critical issue, "
            f"{plural(cadence.high, 'day')} for high, {plural(cadence.medium, 'day')} for medium and "
            f"{plural(cadence.low, 'day')} for low."
        ),
        (
            f"When we ask the reporter for more information, we wait {plural(sla.needs_info_days, 'day')} "
            "for an answer before closing the report, and say so beforehand."
        ),
        calendar_sentence(policy),
    ]


def _lower_article(name: str) -> str:
    """'The llm-d maintainers' reads 'the llm-d maintainers' inside a sentence."""
    return "the" + name[3:] if name.startswith("The ") else name


def disclosure_commitments(policy: Policy) -> list[str]:
    rules, team = policy.disclosure, policy.project.security_team
    parties = [
        "the " + team,
        *("the reporter" if p == "reporter" else "the distributors list" for p in rules.negotiated_with),
    ]
    unit = "business day" if rules.fix_to_disclosure_unit == "business_days" else "day"
    scope = (
        "For a critical vulnerability with a straightforward mitigation"
        if (rules.fix_to_disclosure_applies_to == "critical")
        else "For a vulnerability with a straightforward mitigation"
    )
    sentences = [
        (
            f"A public disclosure date is negotiated by {join_words(parties)}. "
            f"The final say on the date rests with {_lower_article(rules.final_say)}."
        ),
        (
            f"{scope}, we expect disclosure about {plural(rules.fix_to_disclosure, unit)} after the report "
            "or the mitigation, as the negotiation agrees."
        ),
        (
            f"An embargo lasts {plural(rules.default_embargo_days, 'day')} by default and never more than "
            f"{plural(rules.maximum_embargo_days, 'day')}."
        ),
        (
            f"Advisories are published on {weekdays(rules.publication_weekdays)} at "
            f"{rules.publication_hour:02d}:00 {policy.calendar.timezone}."
        ),
    ]
    if rules.disclose_immediately_if_public:
        sentences.append("If the issue is already public or exploited, disclosure can be immediate.")
    if policy.distributors.enabled:
        sentences.append(
            f"Distributors on the list are told at least {plural(rules.distributor_min_notice_days, 'day')} "
            f"before disclosure, and again {plural(rules.distributor_final_notice_hours, 'hour')} before."
        )
    sentences.append(duplicate_credit_sentence(policy))
    return sentences


DUPLICATE_CREDIT_WORDS = {
    DuplicateCredit.FIRST_REPORTER: "When several people report the same issue, the advisory credits "
    "the first to report it.",
    DuplicateCredit.REPORTERS_BEFORE_FIX: "When several people report the same issue, the advisory "
    "credits everyone who reported it before a fix was available.",
    DuplicateCredit.EVERY_REPORTER: "When several people report the same issue, the advisory credits "
    "every one of them.",
}


def duplicate_credit_sentence(policy: Policy) -> str:
    return DUPLICATE_CREDIT_WORDS[policy.credit.duplicates]


def supported_versions_sentence(versions: SupportedVersions, project_name: str) -> str:
    if versions.mode == "none":
        return f"{project_name} is in a pre-release state: no released version receives security updates yet."
    if versions.mode == "recent_minor" and versions.count == 1:
        return f"{project_name} fixes security issues in its most recent minor release."
    if versions.mode == "recent_minor":
        return (
            f"{project_name} maintains release branches for the {versions.count} most recent minor releases; "
            "security fixes are made for them as described below."
        )
    return f"These versions receive security updates: {join_words(versions.versions)}."


def language_names(codes: list[str]) -> str:
    names = [LANG_INFO.get(code.lower(), {}).get("name", code) for code in codes]
    return join_words([str(name) for name in names])
