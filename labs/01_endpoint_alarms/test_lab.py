"""Lab 01 grader: endpoint alarms, graded on configuration and on replayed behaviour."""

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta

import pytest

from checks import cloudwatch as cw
from checks import require
from fixtures import scenarios
from mlalab.catalog import lab_module

timelines = lab_module(__file__, "timelines")

MICROSECONDS = ("ModelLatency is reported in microseconds: 300 ms is 300000 and 500 ms is 500000. "
                "A threshold of 500 would mean 0.5 ms, not 500 ms.")
NOT_BREACHING = ("An endpoint with no traffic (at night, between batches) publishes no datapoints; "
                 "'notBreaching' treats that silence as good, so it never pages anyone.")
ERROR_RATE = 0.05  # the error-rate alarm fires above 5 % of invocations
WARNINGS_ONLY = ("Graduated alarms: single symptoms open a ticket on the warnings topic; only the composite "
                 "alarm (slow AND failing) pages the on-call engineer.")


@dataclass(frozen=True)
class Scenario:
    recordings: Future  # {timeline name: MetricStore}, recorded while the learner's code runs
    endpoint: scenarios.Endpoint
    warning_topic: str
    pager_topic: str
    warning_alarm: str
    critical_alarm: str
    error_alarm: str
    pager_alarm: str

    @property
    def variant(self) -> str:
        return self.endpoint.variants[0]

    @property
    def dimensions(self) -> dict:
        return {"EndpointName": self.endpoint.name, "VariantName": self.variant}

    @property
    def metric_alarms(self) -> list[str]:
        return [self.warning_alarm, self.critical_alarm, self.error_alarm]


@pytest.fixture(scope="module")
def scenario(aws, rng, learner, options) -> Scenario:
    endpoint = scenarios.endpoint_with_variants(aws, rng)
    s = Scenario(
        recordings=timelines.record_all(endpoint.name, endpoint.variants[0], endpoint.variants[1],
                                        options.seed),
        endpoint=endpoint,
        warning_topic=scenarios.sns_topic(aws, rng, "ml-warnings"),
        pager_topic=scenarios.sns_topic(aws, rng, "ml-pager"),
        warning_alarm=scenarios.name(rng, "latency-warning"),
        critical_alarm=scenarios.name(rng, "latency-critical"),
        error_alarm=scenarios.name(rng, "errors-5xx-rate"),
        pager_alarm=scenarios.name(rng, "page-oncall"),
    )
    learner({
        "create_latency_alarms": dict(endpoint_name=s.endpoint.name, variant_name=s.variant,
                                      warning_alarm_name=s.warning_alarm, critical_alarm_name=s.critical_alarm,
                                      warning_topic_arn=s.warning_topic),
        "create_error_rate_alarm": dict(endpoint_name=s.endpoint.name, variant_name=s.variant,
                                        alarm_name=s.error_alarm, warning_topic_arn=s.warning_topic),
        "create_pager_alarm": dict(alarm_name=s.pager_alarm, critical_alarm_name=s.critical_alarm,
                                   error_rate_alarm_name=s.error_alarm, pager_topic_arn=s.pager_topic),
    })
    return s


def metric_alarm(alarms, name: str, what: str) -> dict:
    """One of the learner's metric alarms (from the ``alarms`` fixture), or the check fails."""
    alarm = next((a for a in alarms[0] if a["AlarmName"] == name), None)
    require(cw.exists(alarm, name, what))
    return alarm


def latency_alarms(alarms, s: Scenario) -> list[dict]:
    return [metric_alarm(alarms, s.warning_alarm, "warning latency alarm"),
            metric_alarm(alarms, s.critical_alarm, "critical latency alarm")]


@pytest.fixture(scope="module")
def alarms(aws, scenario: Scenario) -> tuple[list[dict], list[dict]]:
    """The learner's metric and composite alarms (and any child alarms their rules name), read once
    for every check and replay."""
    return cw.defined_alarms(aws, scenario.metric_alarms, [scenario.pager_alarm])


@pytest.fixture(scope="module")
def composites(alarms) -> dict[str, dict]:
    return {a["AlarmName"]: a for a in alarms[1]}


@pytest.fixture(scope="module")
def notes(alarms, scenario: Scenario) -> dict[str, str]:
    """What the error-rate alarm really computes, when a replay shows it misbehaving although its
    configuration looked right (an inverted ratio, a fraction threshold on a percentage)."""
    alarm = next((a for a in alarms[0] if a["AlarmName"] == scenario.error_alarm), None)
    note = cw.error_rate_notes(alarm, "Invocation5XXErrors", "Invocations", ERROR_RATE)
    return {scenario.error_alarm: note} if note else {}


@pytest.fixture(scope="module")
def replays(alarms, scenario: Scenario) -> dict:
    """Each recorded timeline replayed through the learner's alarms, as they are defined in AWS."""
    stores = scenario.recordings.result()
    return {name: cw.replay_alarms(alarms, stores[name], timeline.start, timeline.end)
            for name, timeline in timelines.TIMELINES.items()}


@pytest.mark.check("latency-metric")
def test_latency_metric(alarms, scenario):
    for alarm in latency_alarms(alarms, scenario):
        require(cw.watches_metric(alarm, "AWS/SageMaker", "ModelLatency", scenario.dimensions),
                cw.uses_statistic(alarm, "p99"), cw.unit_is(alarm, "Microseconds", "ModelLatency"))


@pytest.mark.check("latency-thresholds")
def test_latency_thresholds(alarms, scenario):
    warning, critical = latency_alarms(alarms, scenario)
    require(cw.threshold(warning, 300_000, MICROSECONDS), cw.threshold(critical, 500_000, MICROSECONDS))


@pytest.mark.check("latency-window")
def test_latency_window(alarms, scenario):
    for alarm in latency_alarms(alarms, scenario):
        require(cw.evaluation_window(alarm, period=60, evaluation_periods=3, datapoints=2))


@pytest.mark.check("missing-data")
def test_missing_data(alarms, scenario, replays):
    for name in scenario.metric_alarms:
        require(cw.treats_missing_data(metric_alarm(alarms, name, "alarm"), "notBreaching", NOT_BREACHING))
    night = timelines.TIMELINES["night"]
    require(cw.never_in_alarm(replays["night"], [*scenario.metric_alarms, scenario.pager_alarm],
                              "a night with no traffic for 40 minutes (judged from its tenth silent minute)",
                              since=night.event_time + timedelta(minutes=10),
                              until=night.event_time + timedelta(minutes=night.silent_minutes),
                              optional=(scenario.pager_alarm,)))


@pytest.mark.check("alarm-actions")
def test_alarm_actions(alarms, scenario):
    for name in scenario.metric_alarms:
        require(cw.actions(metric_alarm(alarms, name, "alarm"), [scenario.warning_topic], [scenario.pager_topic],
                           WARNINGS_ONLY))


@pytest.mark.check("error-rate-math")
def test_error_rate_math(alarms, scenario):
    alarm = metric_alarm(alarms, scenario.error_alarm, "error-rate alarm")
    require(cw.ratio_math(alarm, "Invocation5XXErrors", "Invocations", "AWS/SageMaker", scenario.dimensions))


@pytest.mark.check("pager-composite")
def test_pager_composite(composites, scenario):
    composite = composites.get(scenario.pager_alarm)
    require(cw.exists(composite, scenario.pager_alarm, "composite alarm"))
    require(cw.composite_rule_uses(composite, [scenario.critical_alarm, scenario.error_alarm]),
            cw.actions(composite, [scenario.pager_topic], [scenario.warning_topic],
                       "The composite alarm is the only one that pages."))


@pytest.mark.check("error-rate-threshold")
def test_error_rate_threshold(scenario, replays, notes):
    require(cw.never_in_alarm(replays["errors_3pct"], [scenario.error_alarm], "20 minutes at 3% 5XX errors "
                              "(below the 5% threshold)", notes=notes),
            cw.in_alarm_within(replays["errors_7pct"], scenario.error_alarm,
                               timelines.TIMELINES["errors_7pct"].event_time, 3, "15 minutes at 7% 5XX errors",
                               note=notes.get(scenario.error_alarm, "")),
            cw.never_in_alarm(replays["spike"], [scenario.error_alarm], "one bad minute at 30% 5XX errors "
                              "(2 out of 3 datapoints must breach)", notes=notes))


@pytest.mark.check("quiet-day")
def test_quiet_day(scenario, replays, composites, notes):
    require(cw.never_in_alarm(replays["quiet_day"], [*scenario.metric_alarms, scenario.pager_alarm],
                              "an ordinary hour (p99 about 150 ms, 0.5% errors)", optional=(scenario.pager_alarm,),
                              composites=composites, notes=notes))


@pytest.mark.check("spike-no-page")
def test_spike_does_not_page(scenario, replays, composites):
    require(cw.never_in_alarm(replays["spike"], [scenario.pager_alarm],
                              "a single one-minute spike (p99 2.5 s, 30% errors, then back to normal)",
                              composites=composites))


@pytest.mark.check("slow-only-no-page")
def test_slow_only_does_not_page(scenario, replays, composites):
    require(cw.never_in_alarm(replays["slow_only"], [scenario.pager_alarm],
                              "15 minutes of slow responses (p99 800 ms) with almost no errors",
                              composites=composites))


@pytest.mark.check("incident-pages")
def test_incident_pages(scenario, replays, composites):
    incident = timelines.TIMELINES["incident"]
    require(cw.in_alarm_within(replays["incident"], scenario.pager_alarm, incident.event_time, 3,
                               "an incident (p99 900 ms and 12% 5XX errors for 15 minutes)",
                               composite=composites.get(scenario.pager_alarm)))
