"""Lab 09 grader: drift statistics by hand, a drift report over captured traffic, and naming drift.

The scenario is one S3 bucket (random names) holding the churn model's baseline dataset (a CSV with a
header), three hours of captured traffic of the endpoint's production variant in SageMaker's
data-capture format (and a little of the challenger variant's, under its own prefix), the test cases
for the four statistics and three incidents to name. The learner's ``answer_cases`` (given) writes
what their functions return; ``drift_report`` writes the report. The checks compare both with values
computed independently in ``checks.drift``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from checks import drift, require, s3
from fixtures import scenarios
from mlalab.catalog import lab_module

traffic = lab_module(__file__, "traffic")
WRITE_IT = "your function must write it there as JSON with s3.put_object."


@dataclass(frozen=True)
class Scenario:
    bucket: str
    cases_key: str
    answers_key: str
    baseline_key: str
    capture_prefix: str
    report_key: str
    cases: list[drift.Case]
    incidents: list[drift.Incident]
    expected: drift.ExpectedReport


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    s3 = aws.client("s3")
    bucket = scenarios.bucket(aws, rng, "ml-monitoring")
    endpoint = scenarios.name(rng, "churn-endpoint")
    capture_root = f"datacapture/{endpoint}/"
    capture_prefix = f"{capture_root}AllTraffic/"
    data = traffic.traffic(rng, capture_prefix)
    cases, incidents = traffic.cases(rng), traffic.incidents(rng)
    run = scenarios.suffix(rng, 8)
    s = Scenario(bucket=bucket, cases_key=f"drift-tests/{run}/cases.json",
                 answers_key=f"drift-tests/{run}/answers.json",
                 baseline_key=f"baselines/{endpoint}/training-{scenarios.suffix(rng, 6)}.csv",
                 capture_prefix=capture_prefix, report_key=f"reports/{endpoint}/drift-{run}.json",
                 cases=cases, incidents=incidents, expected=data.expected)
    s3.put_object(Bucket=bucket, Key=s.baseline_key, Body=data.baseline_csv.encode(), ContentType="text/csv")
    for key, body in {**data.capture_files, **traffic.challenger_capture(rng, f"{capture_root}Challenger/")}.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    graded = [{"id": c.id, "function": c.function, "args": c.args} for c in cases]
    graded += [{"id": i.id, "function": "classify", "args": {"scenario": i.scenario}} for i in incidents]
    s3.put_object(Bucket=bucket, Key=s.cases_key, Body=json.dumps({"cases": graded}).encode())
    learner({
        "answer_cases": dict(bucket=bucket, cases_key=s.cases_key, answers_key=s.answers_key),
        "drift_report": dict(bucket=bucket, baseline_key=s.baseline_key, capture_prefix=s.capture_prefix,
                             report_key=s.report_key),
    })
    return s


@pytest.fixture(scope="module")
def answers(aws, scenario) -> dict:
    """The answers file: {case id: what the learner's function returned}; fails every case check if unreadable."""
    where = f"s3://{scenario.bucket}/{scenario.answers_key}"
    document, verdict = s3.read_json(aws, _where(scenario, scenario.answers_key), "answers file", WRITE_IT)
    require(verdict)
    found, verdict = drift.answers_of(document, where)
    require(verdict)
    return found


@pytest.fixture(scope="module")
def report(aws, scenario) -> object:
    document, verdict = s3.read_json(aws, _where(scenario, scenario.report_key), "drift report", WRITE_IT)
    require(verdict)
    return document


def _where(s: Scenario, key: str) -> str:
    return f"s3://{s.bucket}/{key}"


@pytest.mark.check("ks-statistic")
def test_ks_statistic(scenario, answers):
    require(drift.statistic_answers(answers, scenario.cases, "ks_statistic", _where(scenario, scenario.answers_key)))


@pytest.mark.check("linf-distance")
def test_linf_distance(scenario, answers):
    require(drift.statistic_answers(answers, scenario.cases, "linf_distance", _where(scenario, scenario.answers_key)))


@pytest.mark.check("js-divergence")
def test_js_divergence(scenario, answers):
    require(drift.statistic_answers(answers, scenario.cases, "js_divergence", _where(scenario, scenario.answers_key)))


@pytest.mark.check("chi-squared")
def test_chi_squared(scenario, answers):
    require(drift.statistic_answers(answers, scenario.cases, "chi_squared", _where(scenario, scenario.answers_key)))


@pytest.mark.check("drift-report")
def test_drift_report(scenario, report):
    require(drift.report_distances(report, scenario.expected, _where(scenario, scenario.report_key)))


@pytest.mark.check("drifted-features")
def test_drifted_features(scenario, report):
    require(drift.drifted_features(report, scenario.expected, _where(scenario, scenario.report_key)))


@pytest.mark.check("drift-named")
def test_drift_named(scenario, answers):
    require(drift.drift_named(answers, scenario.incidents, _where(scenario, scenario.answers_key)))
