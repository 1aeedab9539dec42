"""Business days on a project's calendar: its timezone, its weekend and its public holidays.

Deadlines are computed in the project's local time and stored in UTC. "Three working days after
Friday 17:00" is the next Wednesday at 17:00 local time: each working day counted moves the clock
to the same local time on the next working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import holidays

from vulndesk.projects.policy import Calendar


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[dt.date]:
    """A country's public holidays for a year: computed once per process (the queue asks per row)."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


@dataclass(frozen=True)
class BusinessCalendar:
    policy: Calendar

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.policy.timezone)

    @cached_property
    def _weekend(self) -> frozenset[int]:
        return frozenset(day.number for day in self.policy.weekend)

    def _holidays(self, year: int) -> set[dt.date]:
        days = {d for d in self.policy.extra_holidays if d.year == year}
        if self.policy.holiday_country:
            days.update(_public_holidays(self.policy.holiday_country, self.policy.holiday_subdivision, year))
        return days

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() not in self._weekend and day not in self._holidays(day.year)

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``start`` plus ``days`` working days, at the same local time; returned in UTC.

        A start outside working days counts from the beginning of the next working day.
        """
        local = start.astimezone(self.zone)
        if not self.is_working_day(local.date()):
            local = self._next_working_morning(local)
        day = local.date()
        for _ in range(days):
            day += dt.timedelta(days=1)
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        moment = dt.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=self.zone)
        return moment.astimezone(dt.UTC)

    def _next_working_morning(self, local: dt.datetime) -> dt.datetime:
        day = local.date() + dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(9, 0), tzinfo=self.zone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.zone)
