"""Monitoring schedule expressions (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ScheduleConfig.html): the accepted forms, due times,
and the window each execution analyses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlalab.engines.modelmonitor import schedule as s

T0 = datetime(2024, 5, 6, 13, 25, tzinfo=UTC)


def at(hour: int, day: int = 6, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "kind", "start", "interval"), [
    ("cron(0 * ? * * *)", s.HOURLY, 0, 1),
    ("cron(0 12 ? * * *)", s.DAILY, 12, 24),
    ("cron(0 0 ? * * *)", s.DAILY, 0, 24),
    ("cron(0 17/12 ? * * *)", s.EVERY_N_HOURS, 5, 12),
    ("cron(0 0/2 ? * * *)", s.EVERY_N_HOURS, 0, 2),
    ("cron(0 */6 ? * * *)", s.EVERY_N_HOURS, 0, 6),
    ("cron(0 3/1 ? * * *)", s.HOURLY, 0, 1),
    ("cron(0 7/24 ? * * *)", s.DAILY, 7, 24),
    ("  cron(0 * ? * * *) ", s.HOURLY, 0, 1),
    ("NOW", s.NOW, 0, 0),
])
def test_documented_forms_parse(expression: str, kind: str, start: int, interval: int) -> None:
    parsed = s.parse(expression)
    assert (parsed.kind, parsed.start_hour, parsed.interval_hours) == (kind, start, interval)
    assert parsed.recurring is (kind != s.NOW)


@pytest.mark.parametrize(("expression", "fragment"), [
    ("cron(30 * ? * * *)", "minutes field must be 0"),
    ("cron(*/15 * ? * * *)", "minutes field must be 0"),
    ("cron(0 * * * ? *)", "day-of-month '?'"),
    ("cron(0 12 ? * MON *)", "day-of-month '?'"),
    ("cron(0 * ? * *)", "6 fields"),
    ("cron(0 24 ? * * *)", "hour must be 00-23"),
    ("cron(0 x ? * * *)", "hour must be 00-23"),
    ("cron(0 0/0 ? * * *)", "interval must be 01-24"),
    ("cron(0 0/25 ? * * *)", "interval must be 01-24"),
    ("rate(1 hour)", "expected cron(0 * ? * * *)"),
    ("now", "expected cron"),
    ("", "expected cron"),
])
def test_undocumented_forms_are_refused(expression: str, fragment: str) -> None:
    with pytest.raises(s.ScheduleError) as error:
        s.parse(expression)
    assert fragment in str(error.value)
    assert s.SUPPORTED in str(error.value)


def test_runs_at_hours_congruent_to_the_start() -> None:
    every12 = s.parse("cron(0 17/12 ? * * *)")  # "Every 12 hours, starting at 5 PM UTC"
    assert [h for h in range(24) if every12.runs_at(h)] == [5, 17]
    every5 = s.parse("cron(0 3/5 ? * * *)")
    assert [h for h in range(24) if every5.runs_at(h)] == [3, 8, 13, 18, 23]
    assert not s.parse("NOW").runs_at(0)


# --- offsets and ScheduleConfig -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("-PT1H", timedelta(hours=-1)),
    ("-PT0H", timedelta(0)),
    ("-P1D", timedelta(days=-1)),
    ("-PT30M", timedelta(minutes=-30)),
    ("-P1DT2H", timedelta(days=-1, hours=-2)),
    ("PT2H", timedelta(hours=2)),
    ("+PT10S", timedelta(seconds=10)),
])
def test_offsets(text: str, expected: timedelta) -> None:
    assert s.parse_offset(text) == expected


@pytest.mark.parametrize("text", ["-1H", "-P", "-PT", "PT1X", "", "-PT1H30"])
def test_bad_offsets(text: str) -> None:
    with pytest.raises(s.ScheduleError, match="ISO 8601"):
        s.parse_offset(text)


def test_now_requires_both_offsets() -> None:
    with pytest.raises(s.ScheduleError, match="required when ScheduleExpression is NOW"):
        s.validate({"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H"})
    with pytest.raises(s.ScheduleError, match="required when ScheduleExpression is NOW"):
        s.validate({"ScheduleExpression": "NOW"})
    ok = s.validate({"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT0H"})
    assert ok.kind == s.NOW


def test_window_at_most_24_hours_and_ordered() -> None:
    base = {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert s.validate({**base, "DataAnalysisStartTime": "-PT24H", "DataAnalysisEndTime": "-PT0H"}).kind == s.HOURLY
    with pytest.raises(s.ScheduleError, match="by more than 24 hours"):
        s.validate({**base, "DataAnalysisStartTime": "-PT25H", "DataAnalysisEndTime": "-PT0H"})
    with pytest.raises(s.ScheduleError, match="must be before"):
        s.validate({**base, "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT1H"})
    with pytest.raises(s.ScheduleError, match="ISO 8601"):
        s.validate({**base, "DataAnalysisEndTime": "soon"})
    with pytest.raises(s.ScheduleError, match="minutes field"):
        s.validate({"ScheduleExpression": "cron(5 * ? * * *)"})


# --- due times ---------------------------------------------------------------------------------------


def test_hourly_due_times_exclude_start_include_end() -> None:
    hourly = s.parse("cron(0 * ? * * *)")
    assert s.due_times(hourly, at(13), at(16)) == [at(14), at(15), at(16)]
    assert s.due_times(hourly, T0, at(16, minute=59)) == [at(14), at(15), at(16)]
    assert s.due_times(hourly, at(13), at(13, minute=59)) == []
    assert s.due_times(hourly, at(16), at(13)) == []


def test_daily_and_every_n_due_times_cross_midnight() -> None:
    daily = s.parse("cron(0 2 ? * * *)")
    assert s.due_times(daily, at(3), at(3, day=8)) == [at(2, day=7), at(3 - 1, day=8)]
    every12 = s.parse("cron(0 17/12 ? * * *)")
    assert s.due_times(every12, at(4), at(6, day=7)) == [at(5), at(17), at(5, day=7)]
    assert s.due_times(s.parse("NOW"), at(0), at(23)) == []


def test_naive_times_are_utc() -> None:
    hourly = s.parse("cron(0 * ? * * *)")
    assert s.due_times(hourly, datetime(2024, 5, 6, 13), datetime(2024, 5, 6, 14)) == [at(14)]


def test_first_run() -> None:
    assert s.first_run(s.parse("cron(0 * ? * * *)"), T0) == at(14)
    assert s.first_run(s.parse("cron(0 * ? * * *)"), at(13)) == at(14)  # strictly after creation
    assert s.first_run(s.parse("cron(0 9 ? * * *)"), T0) == at(9, day=7)
    assert s.first_run(s.parse("NOW"), T0) == T0


# --- what an execution analyses ----------------------------------------------------------------------


def test_hourly_run_analyses_the_previous_hour() -> None:
    hourly = s.parse("cron(0 * ? * * *)")
    assert s.analysis_window(hourly, at(14)) == (at(13), at(14))
    assert s.capture_hours(*s.analysis_window(hourly, at(14))) == [at(13)]


def test_every_n_run_analyses_the_period_and_offsets_override() -> None:
    every6 = s.parse("cron(0 0/6 ? * * *)")
    assert s.analysis_window(every6, at(12)) == (at(6), at(12))
    assert s.capture_hours(at(6), at(12)) == [at(h) for h in range(6, 12)]
    daily = s.parse("cron(0 0 ? * * *)")
    assert s.analysis_window(daily, at(0, day=7)) == (at(0), at(0, day=7))
    now = s.parse("NOW")
    assert s.analysis_window(now, T0, "-PT2H", "-PT0H") == (T0 - timedelta(hours=2), T0)
    assert s.capture_hours(T0 - timedelta(hours=2), T0) == [at(11), at(12), at(13)]
    assert s.analysis_window(s.parse("cron(0 * ? * * *)"), at(14), "-P1D", "-PT23H") == (at(14, day=5), at(15, day=5))


def test_report_folder_and_job_name() -> None:
    assert s.report_hour(datetime(2024, 5, 6, 14, 7, 3, tzinfo=UTC)) == at(14)
    assert s.processing_job_name(at(14), "0123456789abcdef") == "model-monitoring-202405061400-01234567"
    assert s.top_of_hour(T0) == at(13)
