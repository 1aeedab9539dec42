"""What the policy allows an embargo to be: pure functions of the policy and a few dates.

- the end may not pass ``maximum_embargo_days`` after the report arrived;
- the suggested end is ``default_embargo_days`` after arrival or, once a fix is available, the
  policy's fix-to-disclosure gap (calendar or business days; for every report or only critical
  ones), whichever comes first; then moved to the next preferred publication weekday at the
  preferred hour, in the project's timezone, without passing the maximum.
"""

from __future__ import annotations

import datetime as dt

from vulndesk.projects.calendar import BusinessCalendar
from vulndesk.projects.policy import Policy

SEARCH_DAYS = 14  # a week has every weekday; two leave room for holidays


class EmbargoRuleError(ValueError):
    pass


def latest_end(policy: Policy, received_at: dt.datetime) -> dt.datetime:
    return received_at + dt.timedelta(days=policy.disclosure.maximum_embargo_days)


def check_end(policy: Policy, received_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> None:
    if ends_at.utcoffset() is None:
        raise EmbargoRuleError("the end needs a timezone (it is stored in UTC)")
    if ends_at <= now:
        raise EmbargoRuleError("the end must be in the future")
    latest = latest_end(policy, received_at)
    if ends_at > latest:
        raise EmbargoRuleError(
            f"{ends_at:%Y-%m-%d %H:%M} UTC is beyond the policy's maximum embargo of "
            f"{policy.disclosure.maximum_embargo_days} days from the report: the latest end is "
            f"{latest:%Y-%m-%d %H:%M} UTC"
        )


def suggested_end(
    policy: Policy, received_at: dt.datetime, *, fix_available_at: dt.datetime | None, rating: str
) -> dt.datetime:
    target = received_at + dt.timedelta(days=policy.disclosure.default_embargo_days)
    gap_applies = policy.disclosure.fix_to_disclosure_applies_to == "any" or rating.lower() == "critical"
    if fix_available_at is not None and gap_applies:
        target = min(target, _after_fix(policy, fix_available_at))
    return _publication_slot(policy, target, latest_end(policy, received_at))


def _after_fix(policy: Policy, fix_available_at: dt.datetime) -> dt.datetime:
    gap = policy.disclosure.fix_to_disclosure
    if policy.disclosure.fix_to_disclosure_unit == "business_days":
        return BusinessCalendar(policy.calendar).add_working_days(fix_available_at, gap)
    return fix_available_at + dt.timedelta(days=gap)


def _publication_slot(policy: Policy, target: dt.datetime, latest: dt.datetime) -> dt.datetime:
    """The first preferred weekday at the preferred hour (local time) at or after ``target``;
    the last one before ``latest`` when that would pass it.

    Slots are compared by day and hour: a target a few seconds past the publication hour (a report
    received at 16:00:05) still takes that day's slot instead of moving to the next preferred day."""
    slots = _slots(policy, target.date() - dt.timedelta(days=SEARCH_DAYS), 3 * SEARCH_DAYS)
    hour = _local_hour(target, BusinessCalendar(policy.calendar).zone)
    after = [s for s in slots if hour <= s <= latest]
    if after:
        return after[0]
    before = [s for s in slots if s <= latest]
    return before[-1] if before else latest


def _local_hour(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The start of ``moment``'s hour on the project's clock (not UTC's: some zones are offset by
    half an hour)."""
    local = moment.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    return local.astimezone(dt.UTC)


def _slots(policy: Policy, start: dt.date, days: int) -> list[dt.datetime]:
    calendar = BusinessCalendar(policy.calendar)
    weekdays = {day.number for day in policy.disclosure.publication_weekdays}
    found = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if day.weekday() in weekdays and calendar.is_working_day(day):
            local = dt.datetime.combine(
                day, dt.time(policy.disclosure.publication_hour), tzinfo=calendar.zone
            )
            found.append(local.astimezone(dt.UTC))
    return found
