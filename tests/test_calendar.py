from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from vulndesk.projects.calendar import BusinessCalendar
from vulndesk.projects.policy import Calendar

NEW_YORK = ZoneInfo("America/New_York")


def _calendar(**overrides: object) -> BusinessCalendar:
    fields: dict[str, object] = {"timezone": "America/New_York", "holiday_country": "US", **overrides}
    return BusinessCalendar(Calendar.model_validate(fields))


def test_three_working_days_after_friday_1700_is_wednesday_1700_local_time() -> None:
    friday = dt.datetime(2026, 11, 13, 17, 0, tzinfo=NEW_YORK)
    due = _calendar().add_working_days(friday, 3)
    assert due.tzinfo == dt.UTC
    assert due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 18, 17, 0, tzinfo=NEW_YORK)


def test_veterans_day_pushes_a_friday_report_to_thursday() -> None:
    friday = dt.datetime(2026, 11, 6, 17, 0, tzinfo=NEW_YORK)
    due = _calendar().add_working_days(friday, 3)
    assert due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 12, 17, 0, tzinfo=NEW_YORK)


def test_a_public_holiday_pushes_the_deadline_by_a_day() -> None:
    # Thanksgiving, Thursday 26 November 2026, is a US public holiday.
    monday = dt.datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK)
    due = _calendar().add_working_days(monday, 3)
    assert due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 27, 10, 0, tzinfo=NEW_YORK)
    without_holidays = _calendar(holiday_country=None).add_working_days(monday, 3)
    assert without_holidays.astimezone(NEW_YORK) == dt.datetime(2026, 11, 26, 10, 0, tzinfo=NEW_YORK)


def test_an_extra_holiday_of_the_project_counts_too() -> None:
    monday = dt.datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK)
    due = _calendar(extra_holidays=[dt.date(2026, 3, 3)]).add_working_days(monday, 1)
    assert due.astimezone(NEW_YORK).date() == dt.date(2026, 3, 4)


def test_a_report_on_a_saturday_counts_from_monday_morning() -> None:
    saturday = dt.datetime(2026, 11, 7, 22, 30, tzinfo=NEW_YORK)
    due = _calendar().add_working_days(saturday, 1)
    assert due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 10, 9, 0, tzinfo=NEW_YORK)


def test_a_custom_weekend_is_respected() -> None:
    calendar = BusinessCalendar(
        Calendar.model_validate({"timezone": "Asia/Dubai", "weekend": ["saturday", "sunday"]})
    )
    thursday = dt.datetime(2026, 11, 5, 12, 0, tzinfo=ZoneInfo("Asia/Dubai"))
    assert calendar.add_working_days(thursday, 2).astimezone(ZoneInfo("Asia/Dubai")).date() == dt.date(
        2026, 11, 9
    )


def test_deadlines_keep_local_time_across_a_daylight_saving_change() -> None:
    # US clocks go back on Sunday 1 November 2026.
    friday = dt.datetime(2026, 10, 30, 17, 0, tzinfo=NEW_YORK)
    due = _calendar().add_working_days(friday, 1)
    assert due.astimezone(NEW_YORK) == dt.datetime(2026, 11, 2, 17, 0, tzinfo=NEW_YORK)
    assert due == dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC)
