"""Monitoring schedule expressions: which forms SageMaker accepts, when a schedule's executions are due,
and which window of captured data each execution analyses.

Model Monitor accepts only these schedule expressions
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html and
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ScheduleConfig.html):

* hourly: ``cron(0 * ? * * *)``;
* daily at an hour: ``cron(0 [00-23] ? * * *)`` (``cron(0 12 ? * * *)`` is daily at noon UTC);
* every N hours from an hour: ``cron(0 [00-23]/[01-24] ? * * *)`` ("Every 12 hours, starting at 5 PM UTC:
  ``cron(0 17/12 ? * * *)``", so the runs are at 05:00 and 17:00: every hour congruent to the start modulo N);
  ``*/N`` is the standard cron spelling of ``0/N``;
* ``NOW``: one execution, at once, analysing the window ``DataAnalysisStartTime``..``DataAnalysisEndTime``
  (offsets in ISO 8601 duration format such as ``-PT1H``; both required with ``NOW``; "The start time that
  you specify must not precede the end time that you specify by more than 24 hours").

A monitoring job never runs more often than hourly: the minute field must be ``0``. An execution scheduled
at ``T`` of an hourly schedule analyses the hour before it, ``[T - 1h, T)``: the capture files of hour
``T - 1h`` (the captured data lands under ``yyyy/mm/dd/hh`` of the inference time). A schedule whose runs are
N hours apart analyses the N hours since the previous run, at most 24 (the documented maximum window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOURLY = "Hourly"
DAILY = "Daily"
EVERY_N_HOURS = "EveryNHours"
NOW = "Now"

#: The longest analysis window AWS allows (ScheduleConfig.DataAnalysisStartTime).
MAX_WINDOW = timedelta(hours=24)

#: The forms the documentation lists, quoted in every rejection so the learner sees what is accepted.
SUPPORTED = "cron(0 * ? * * *), cron(0 [00-23] ? * * *), cron(0 [00-23]/[01-24] ? * * *) or NOW"

_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$")
_DURATION = re.compile(
    r"^(?P<sign>[+-]?)P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class ScheduleError(ValueError):
    """A schedule SageMaker refuses with ``ValidationException``; the message says what is wrong."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression: runs at the top of every hour ``h`` with ``h % interval == start % interval``
    (``kind`` NOW: once, when created)."""

    kind: str
    start_hour: int
    interval_hours: int
    expression: str

    @property
    def recurring(self) -> bool:
        return self.kind != NOW

    def runs_at(self, hour: int) -> bool:
        """Does an execution start at ``hour``:00 UTC?"""
        return self.recurring and (hour - self.start_hour) % self.interval_hours == 0


def _hour(text: str, expression: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 23:
        raise ScheduleError(
            f"Invalid ScheduleExpression {expression!r}: the hour must be 00-23, got {text!r}. Supported: {SUPPORTED}."
        )
    return int(text)


def parse(expression: str) -> Schedule:
    """Parse a ScheduleConfig.ScheduleExpression, or raise :class:`ScheduleError`."""
    text = (expression or "").strip()
    if text == "NOW":
        return Schedule(NOW, 0, 0, text)
    match = _CRON.match(text)
    if match is None:
        raise ScheduleError(f"Invalid ScheduleExpression {expression!r}: expected {SUPPORTED}.")
    fields = match["body"].split()
    if len(fields) != 6:
        raise ScheduleError(
            f"Invalid ScheduleExpression {expression!r}: a cron expression has 6 fields "
            f"(minutes hours day-of-month month day-of-week year), got {len(fields)}. Supported: {SUPPORTED}."
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if minutes != "0":
        raise ScheduleError(
            f"Invalid ScheduleExpression {expression!r}: monitoring runs at most once an hour, on the hour "
            f"(the minutes field must be 0, got {minutes!r}). Supported: {SUPPORTED}."
        )
    if (day_of_month, month, day_of_week, year) != ("?", "*", "*", "*"):
        raise ScheduleError(
            f"Invalid ScheduleExpression {expression!r}: only hourly, daily or every-N-hours schedules are "
            f"supported (day-of-month '?', month, day-of-week and year '*'). Supported: {SUPPORTED}."
        )
    if hours == "*":
        return Schedule(HOURLY, 0, 1, text)
    if "/" in hours:
        first, _, step = hours.partition("/")
        start = 0 if first == "*" else _hour(first, expression)
        if not step.isdigit() or not 1 <= int(step) <= 24:
            raise ScheduleError(
                f"Invalid ScheduleExpression {expression!r}: the hour interval must be 01-24, got {step!r}. "
                f"Supported: {SUPPORTED}."
            )
        interval = int(step)
        if interval == 1:
            return Schedule(HOURLY, 0, 1, text)
        if interval >= 24:
            return Schedule(DAILY, start, 24, text)
        return Schedule(EVERY_N_HOURS, start % interval, interval, text)
    return Schedule(DAILY, _hour(hours, expression), 24, text)


def parse_offset(text: str) -> timedelta:
    """An ISO 8601 duration offset such as ``-PT1H``, ``-PT0H``, ``-P1D`` or ``-PT30M`` as a timedelta."""
    match = _DURATION.match((text or "").strip())
    if match is None or text.strip().rstrip("T").endswith("P"):
        raise ScheduleError(f"Invalid time offset {text!r}: expected an ISO 8601 duration such as -PT1H.")
    value = timedelta(
        days=int(match["days"] or 0),
        hours=int(match["hours"] or 0),
        minutes=int(match["minutes"] or 0),
        seconds=int(match["seconds"] or 0),
    )
    return -value if match["sign"] == "-" else value


def validate(schedule_config: dict) -> Schedule:
    """Validate a whole ScheduleConfig (expression and data-analysis offsets) as CreateMonitoringSchedule does."""
    schedule = parse(schedule_config.get("ScheduleExpression", ""))
    start_text = schedule_config.get("DataAnalysisStartTime")
    end_text = schedule_config.get("DataAnalysisEndTime")
    if schedule.kind == NOW and (start_text is None or end_text is None):
        raise ScheduleError(
            "DataAnalysisStartTime and DataAnalysisEndTime are required when ScheduleExpression is NOW."
        )
    if start_text is not None and end_text is not None:
        start, end = parse_offset(start_text), parse_offset(end_text)
        if start >= end:
            raise ScheduleError(
                f"DataAnalysisStartTime {start_text!r} must be before DataAnalysisEndTime {end_text!r}."
            )
        if end - start > MAX_WINDOW:
            raise ScheduleError(
                f"DataAnalysisStartTime {start_text!r} must not precede DataAnalysisEndTime {end_text!r} "
                "by more than 24 hours."
            )
    else:
        for text in (start_text, end_text):
            if text is not None:
                parse_offset(text)
    return schedule


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def top_of_hour(when: datetime) -> datetime:
    return _utc(when).replace(minute=0, second=0, microsecond=0)


def due_times(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """The scheduled instants ``t`` with ``after < t <= until``, oldest first (NOW: none; its one run is
    at creation, see :func:`first_run`)."""
    if not schedule.recurring:
        return []
    after, until = _utc(after), _utc(until)
    at = top_of_hour(after) + timedelta(hours=1)
    out = []
    while at <= until:
        if schedule.runs_at(at.hour):
            out.append(at)
        at += timedelta(hours=1)
    return out


def first_run(schedule: Schedule, created: datetime) -> datetime:
    """When a schedule created at ``created`` first runs: NOW at once; a cron schedule at its first
    instant strictly after creation."""
    created = _utc(created)
    if not schedule.recurring:
        return created
    at = top_of_hour(created) + timedelta(hours=1)
    while not schedule.runs_at(at.hour):
        at += timedelta(hours=1)
    return at


def analysis_window(
    schedule: Schedule,
    scheduled: datetime,
    start_offset: str | None = None,
    end_offset: str | None = None,
) -> tuple[datetime, datetime]:
    """``[start, end)`` of the data the execution scheduled at ``scheduled`` analyses: the offsets when given
    (ScheduleConfig.DataAnalysisStart/EndTime, or an EndpointInput's Start/EndTimeOffset), else the
    period since the previous run (an hourly run: the previous hour)."""
    scheduled = _utc(scheduled)
    period = timedelta(hours=min(schedule.interval_hours or 1, 24))
    start = scheduled + parse_offset(start_offset) if start_offset is not None else scheduled - period
    end = scheduled + parse_offset(end_offset) if end_offset is not None else scheduled
    return start, end


def capture_hours(start: datetime, end: datetime) -> list[datetime]:
    """The capture hours (``yyyy/mm/dd/hh`` folders, by inference time) that hold data of ``[start, end)``."""
    at = top_of_hour(start)
    end = _utc(end)
    hours = []
    while at < end:
        hours.append(at)
        at += timedelta(hours=1)
    return hours


def report_hour(scheduled: datetime) -> datetime:
    """The hour of the report folder ``{S3Uri}/{endpoint}/{schedule}/yyyy/mm/dd/hh``: the execution's
    scheduled hour."""
    return top_of_hour(scheduled)


def processing_job_name(scheduled: datetime, suffix: str) -> str:
    """Monitoring executions' processing jobs are named ``model-monitoring-{yyyyMMddHHmm}-{8 hex}``."""
    return f"model-monitoring-{_utc(scheduled):%Y%m%d%H%M}-{suffix[:8]}"


__all__ = [
    "DAILY", "EVERY_N_HOURS", "HOURLY", "MAX_WINDOW", "NOW", "SUPPORTED", "Schedule", "ScheduleError",
    "analysis_window", "capture_hours", "due_times", "first_run", "parse", "parse_offset", "processing_job_name",
    "report_hour", "top_of_hour", "validate",
]
