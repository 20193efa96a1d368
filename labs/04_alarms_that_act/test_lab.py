"""Lab 04 grader: an alarm that rolls an A/B endpoint back, graded on what happens.

After the learner's code has run, the grader plays a simulated hour of the endpoint's traffic
(``traffic.py``): each minute it publishes the variants' metrics with a timestamp on a simulated
clock and evaluates every alarm at that time (``fixtures.moto_ext.cloudwatch.evaluate_alarms``);
each state change is a ``CloudWatch Alarm State Change`` event on the default bus, which the
learner's rule routes to the learner's function, whose handler runs in the sandbox. Four stories:
a quiet start, other alarms firing (the challenger slow, production failing), the challenger
failing, and its recovery. Per story the grader reads what happened: the weight updates CloudTrail
recorded, the warnings topic's messages (through a grader's SQS queue subscribed to it) and the
endpoint's weights. The configuration (the alarm's metric math, the function's resource-based
policy, the execution role) is graded with the CloudWatch and IAM engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from checks import actions, fail, iam, require
from checks import cloudwatch as cw
from checks.actions import Change, Effects
from checks.events import drain
from checks.iam import Expect
from fixtures import scenarios
from fixtures.moto_ext import cloudwatch as cloudwatch_ext
from fixtures.moto_ext import events as events_ext
from fixtures.moto_ext import lambda_ as lambda_ext
from mlalab.catalog import lab_module
from mlalab.engines.iam.grants import Need

traffic = lab_module(__file__, "traffic")

SETTLE_SECONDS = 90.0  # the function's invocations (and Lambda's retries) finish within this
FORCE_AFTER_MINUTES = 6  # the incident's minutes the grader waits for the alarm before forcing it
ROLLBACK = ("An A/B test needs a guard rail: when the challenger fails, the alarm's state change is an event on "
            "the default bus, a rule routes it to a function, and the function moves every request to production "
            "(UpdateEndpointWeightsAndCapacities with the challenger's DesiredWeight at 0).")
ONLY_YOURS = ("Only the challenger's error-rate alarm entering ALARM is a reason to roll back: a slow challenger "
              "or a failing production variant is someone else's alarm (rolling back to a failing production "
              "variant makes things worse). Match your alarm in the rule (resources: [its ARN]) or check "
              "detail.alarmName in the handler.")
ONLY_ALARM = ("Every state change is an event: INSUFFICIENT_DATA -> OK when data arrives, ALARM -> OK when the "
              "challenger recovers, ALARM -> INSUFFICIENT_DATA when it serves no traffic. Act only when "
              "detail.state.value is 'ALARM' (and never shift traffic back automatically: a person decides when "
              "the fixed challenger gets traffic again).")


@dataclass(frozen=True)
class Scenario:
    account: str
    region: str
    endpoint: scenarios.Endpoint
    topic_arn: str
    alarm_name: str
    function_name: str
    role_name: str
    rule_name: str
    latency_alarm: str  # the grader's: the challenger's latency
    production_alarm: str  # the grader's: production's error rate
    observer_url: str  # a grader's queue subscribed to the topic

    @property
    def production(self) -> str:
        return self.endpoint.variants[0]

    @property
    def challenger(self) -> str:
        return self.endpoint.variants[1]

    @property
    def endpoint_arn(self) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:endpoint/{self.endpoint.name}"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    @property
    def rule_arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{self.rule_name}"

    def log_group(self, function: str | None = None) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:/aws/lambda/{function or self.function_name}"

    def needs(self) -> list[Need]:
        """Everything the function needs (README): any other grant is an over-grant."""
        group = self.log_group()
        return [
            Need(("sagemaker:UpdateEndpointWeightsAndCapacities", "sagemaker:DescribeEndpoint"), (self.endpoint_arn,)),
            Need(("sns:Publish",), (self.topic_arn,)),
            Need(("logs:CreateLogGroup",), (group, f"{group}:*")),
            Need(("logs:CreateLogStream", "logs:PutLogEvents"), (f"{group}:log-stream:*",)),
        ]


def _grader_alarms(aws, endpoint: scenarios.Endpoint, latency_alarm: str, production_alarm: str) -> None:
    """Alarms the team already had: the challenger's latency and production's 5XX error rate. They fire
    in the 'other alarms' story; the learner's function must leave them to their owners."""
    cloudwatch = aws.client("cloudwatch")

    def dims(variant: str) -> list[dict]:
        return [{"Name": "EndpointName", "Value": endpoint.name}, {"Name": "VariantName", "Value": variant}]

    cloudwatch.put_metric_alarm(
        AlarmName=latency_alarm, Namespace="AWS/SageMaker", MetricName="ModelLatency",
        Dimensions=dims(endpoint.variants[1]), Statistic="Average", Period=60, EvaluationPeriods=3,
        DatapointsToAlarm=2, Threshold=500_000, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching")
    cloudwatch.put_metric_alarm(
        AlarmName=production_alarm, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=5,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", Metrics=[
            {"Id": "e", "ReturnData": False, "MetricStat": {"Metric": {
                "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors",
                "Dimensions": dims(endpoint.variants[0])}, "Period": 60, "Stat": "Sum"}},
            {"Id": "i", "ReturnData": False, "MetricStat": {"Metric": {
                "Namespace": "AWS/SageMaker", "MetricName": "Invocations",
                "Dimensions": dims(endpoint.variants[0])}, "Period": 60, "Stat": "Sum"}},
            {"Id": "rate", "Expression": "100 * e / i", "ReturnData": True}])


def _observer(aws, rng, topic_arn: str) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=scenarios.name(rng, "grader-warnings-observer"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    endpoint = scenarios.endpoint_with_variants(aws, rng, ("production", "challenger"), (0.9, 0.1))
    topic = scenarios.sns_topic(aws, rng, "ml-warnings")
    s = Scenario(
        account=aws.account, region=aws.region, endpoint=endpoint, topic_arn=topic,
        alarm_name=scenarios.name(rng, "challenger-5xx-rate"),
        function_name=scenarios.name(rng, "rollback-challenger"),
        role_name=scenarios.name(rng, "rollback-challenger-role"),
        rule_name=scenarios.name(rng, "challenger-alarm-changes"),
        latency_alarm=scenarios.name(rng, "challenger-latency"),
        production_alarm=scenarios.name(rng, "production-5xx-rate"),
        observer_url=_observer(aws, rng, topic),
    )
    _grader_alarms(aws, endpoint, s.latency_alarm, s.production_alarm)
    learner({
        "create_rollback_alarm": dict(alarm_name=s.alarm_name, endpoint_name=endpoint.name,
                                      challenger_variant=s.challenger),
        "deploy_rollback_function": dict(function_name=s.function_name, role_name=s.role_name,
                                         endpoint_name=endpoint.name, production_variant=s.production,
                                         challenger_variant=s.challenger, alarm_name=s.alarm_name,
                                         topic_arn=topic),
        "route_alarm_to_function": dict(rule_name=s.rule_name, alarm_name=s.alarm_name,
                                        function_name=s.function_name),
    })
    return s


# --- the simulated hour ------------------------------------------------------------------------------


class Hour:
    """Plays the stories on a simulated clock and collects each one's effects."""

    def __init__(self, aws, rng, s: Scenario) -> None:
        self.aws, self.rng, self.s = aws, rng, s
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        minutes = sum(story.minutes for story in traffic.STORIES)
        self.clock = now - timedelta(minutes=minutes + 5)  # the hour ends in the past: datapoints are accepted
        self.states = {a["AlarmName"]: a["StateValue"] for a in
                       aws.client("cloudwatch").describe_alarms(AlarmTypes=["MetricAlarm"])["MetricAlarms"]}
        self.initial = actions.endpoint_weights(aws, s.endpoint.name)
        self.weights = dict(self.initial)  # read again only after the function may have acted

    def play(self) -> dict[str, Effects]:
        played: dict[str, Effects] = {}
        for story in traffic.STORIES:
            played[story.name] = self.story(story)
        return played

    def story(self, story) -> Effects:
        s, aws = self.s, self.aws
        effects = Effects(story.name, weights_before=dict(self.weights))
        seen = (len(actions.weight_updates(aws, s.endpoint.name)), len(events_ext.deliveries(rule_name=s.rule_name)),
                len(lambda_ext.invocations(s.function_name)))
        incident = story is traffic.INCIDENT
        try:
            for minute in range(story.minutes):
                changes = self.minute(story, minute)
                effects.changes += changes
                if incident and any(c.alarm == s.alarm_name and c.after == "ALARM" for c in changes):
                    break
                if incident and minute + 1 == FORCE_AFTER_MINUTES:
                    effects.forced = self.force_alarm(effects, minute + 1)
                    if effects.forced:
                        break
        except Exception as exc:  # the evaluator or the server refused something: say so in the checks
            effects.error = f"{type(exc).__name__}: {exc}"
        lambda_ext.settle(SETTLE_SECONDS)
        effects.updates = actions.weight_updates(aws, s.endpoint.name)[seen[0]:]
        effects.deliveries = events_ext.deliveries(rule_name=s.rule_name)[seen[1]:]
        effects.invocations = lambda_ext.invocations(s.function_name)[seen[2]:]
        effects.notifications = actions.notifications(drain(aws, s.observer_url), s.topic_arn)
        effects.weights_after = self.weights = actions.endpoint_weights(aws, s.endpoint.name)
        if not incident and story is not traffic.RECOVERY and effects.weights_after != self.initial:
            self.restore()  # so the next story starts from the A/B split again
        return effects

    def minute(self, story, minute: int) -> list[Change]:
        """Publish one minute of metrics, advance the clock, evaluate every alarm."""
        s = self.s
        production, challenger = story.health(minute)
        served = traffic.split(self.weights, self.rng)
        served[s.challenger] = served.get(s.challenger, 0) + story.canary
        data = (traffic.metric_data(s.endpoint.name, s.production, served.get(s.production, 0), production)
                + traffic.metric_data(s.endpoint.name, s.challenger, served[s.challenger], challenger))
        timestamp = self.clock + timedelta(seconds=30)
        if data:
            self.aws.client("cloudwatch").put_metric_data(
                Namespace="AWS/SageMaker", MetricData=[dict(d, Timestamp=timestamp) for d in data])
        self.clock += timedelta(minutes=1)
        states = cloudwatch_ext.evaluate_alarms(s.account, s.region, at=self.clock)
        changes = [Change(minute + 1, name, self.states.get(name, "INSUFFICIENT_DATA"), state)
                   for name, state in states.items() if self.states.get(name) != state]
        self.states.update(states)
        if changes:
            lambda_ext.settle(SETTLE_SECONDS)  # the function acts before the next minute's traffic
            self.weights = actions.endpoint_weights(self.aws, s.endpoint.name)
        return changes

    def force_alarm(self, effects: Effects, minute: int) -> bool:
        """The alarm did not enter ALARM: put it there (actions.force_alarm), so the function is graded
        even when the alarm's threshold is wrong."""
        s = self.s
        if s.alarm_name not in self.states:
            return False
        for before, after in actions.force_alarm(self.aws, s.alarm_name, self.states[s.alarm_name],
                                                 "testing the alarm's reaction"):
            effects.changes.append(Change(minute, s.alarm_name, before, after))
            self.states[s.alarm_name] = after
            lambda_ext.settle(SETTLE_SECONDS)
        return True

    def restore(self) -> None:
        self.aws.client("sagemaker").update_endpoint_weights_and_capacities(
            EndpointName=self.s.endpoint.name, DesiredWeightsAndCapacities=[
                {"VariantName": variant, "DesiredWeight": weight, "DesiredInstanceCount": 2}
                for variant, weight in self.initial.items()])
        self.weights = dict(self.initial)


@pytest.fixture(scope="module")
def hour(aws, rng, scenario) -> dict[str, Effects]:
    return Hour(aws, rng, scenario).play()


def reacted(hour: dict[str, Effects], s: Scenario) -> None:
    """'Nothing happened' only counts once the function does act on its own alarm."""
    incident = hour[traffic.INCIDENT.name]
    if not (incident.updates or incident.notifications):
        require(fail(f"graded once your function reacts to alarm {s.alarm_name} (see the rolls-back check): when "
                     "nothing is connected, nothing happens in any story, which proves nothing."))


# --- the alarm -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alarm(aws, scenario) -> dict | None:
    return cw.metric_alarm(aws, scenario.alarm_name)


@pytest.mark.check("alarm-metric")
def test_alarm_metric(alarm, scenario):
    s = scenario
    require(cw.exists(alarm, s.alarm_name, "alarm"))
    require(cw.ratio_math(alarm, "Invocation5XXErrors", "Invocations", "AWS/SageMaker",
                          {"EndpointName": s.endpoint.name, "VariantName": s.challenger}))


@pytest.mark.check("alarm-fires")
def test_alarm_fires(alarm, scenario, hour):
    s = scenario
    require(cw.exists(alarm, s.alarm_name, "alarm"))
    note = cw.error_rate_notes(alarm, "Invocation5XXErrors", "Invocations", 0.05)
    quiet = [hour[traffic.WARM_UP.name], hour[traffic.OTHER_ALARMS.name]]
    require(actions.alarm_fired(hour[traffic.INCIDENT.name], quiet, s.alarm_name, traffic.FIRE_WITHIN_MINUTES,
                                note or "Alarm when more than 5% of the challenger's invocations fail, in 2 out of 3 "
                                "one-minute periods."))


# --- behaviour ------------------------------------------------------------------------------------------


@pytest.mark.check("rolls-back")
def test_rolls_back(alarm, scenario, hour):
    s = scenario
    require(cw.exists(alarm, s.alarm_name, "alarm"))
    incident = hour[traffic.INCIDENT.name]
    if incident.error:
        require(fail(f"the grader could not play '{incident.story}': {incident.error}"))
    verdict = actions.rolled_back(incident, s.endpoint.name, s.production, s.challenger, s.rule_name, s.alarm_name)
    require(verdict if verdict else fail(f"{verdict.message} {ROLLBACK}"))


@pytest.mark.check("warns-once")
def test_warns_once(alarm, scenario, hour):
    s = scenario
    require(cw.exists(alarm, s.alarm_name, "alarm"))
    require(actions.warned_once(hour[traffic.INCIDENT.name], s.topic_arn, s.endpoint.name, s.rule_name,
                                s.alarm_name))


@pytest.mark.check("other-alarms-ignored")
def test_other_alarms_ignored(scenario, hour):
    reacted(hour, scenario)
    require(actions.did_nothing([hour[traffic.OTHER_ALARMS.name]], scenario.topic_arn, ONLY_YOURS,
                                scenario.alarm_name))


@pytest.mark.check("other-states-ignored")
def test_other_states_ignored(scenario, hour):
    reacted(hour, scenario)
    require(actions.did_nothing([hour[traffic.WARM_UP.name], hour[traffic.RECOVERY.name]], scenario.topic_arn,
                                ONLY_ALARM, scenario.alarm_name))


# --- configuration -------------------------------------------------------------------------------------


@pytest.mark.check("invoke-permission")
def test_invoke_permission(aws, scenario):
    s = scenario
    lam = aws.client("lambda")
    try:
        policy = lam.get_policy(FunctionName=s.function_name)["Policy"]
    except lam.exceptions.ResourceNotFoundException:
        policy = None
    require(actions.invoke_permission(policy, s.function_arn, s.rule_arn, s.account, s.region))


@pytest.fixture(scope="module")
def role(aws, scenario):
    """The execution role's policies as IAM holds them (None if the learner's code did not create it)."""
    try:
        return iam.role_policies(aws, scenario.role_name)
    except iam.PolicyError as exc:
        return exc


def existing(role, s: Scenario) -> iam.RolePolicies:
    if isinstance(role, iam.PolicyError):
        require(fail(f"role {s.role_name}: IAM would reject one of its policies ({role}), so this role could not "
                     "exist in AWS; fix the policy document"))
    require(iam.role_exists(role, s.role_name))
    return role


@pytest.mark.check("role-trust")
def test_role_trust(role, scenario):
    require(actions.trusts_only(existing(role, scenario), "lambda.amazonaws.com", "the function"))


@pytest.mark.check("role-permissions")
def test_role_permissions(role, scenario):
    s = scenario
    stream = f"{s.log_group()}:log-stream:2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef"
    require(iam.decisions(existing(role, s), [
        Expect("sagemaker:UpdateEndpointWeightsAndCapacities", s.endpoint_arn, True,
               "the function moves the endpoint's traffic to production"),
        Expect("sns:Publish", s.topic_arn, True, "the function posts the warning"),
        Expect("logs:CreateLogStream", stream, True,
               "Lambda writes the function's output to /aws/lambda/<function> with the execution role"),
        Expect("logs:PutLogEvents", stream, True,
               "Lambda writes the function's output to /aws/lambda/<function> with the execution role"),
    ], region=s.region))


@pytest.mark.check("role-least-privilege")
def test_role_least_privilege(role, scenario):
    s = scenario
    r = existing(role, s)
    other_endpoint = f"arn:aws:sagemaker:{s.region}:{s.account}:endpoint/fraud-scoring-prod"
    require(iam.decisions(r, [
        Expect("sagemaker:UpdateEndpointWeightsAndCapacities", other_endpoint, False,
               "another team's endpoint is not this function's to change"),
        Expect("sagemaker:DeleteEndpoint", s.endpoint_arn, False, "a rollback never deletes the endpoint"),
        Expect("sagemaker:UpdateEndpoint", s.endpoint_arn, False,
               "a rollback changes weights, it does not deploy another endpoint configuration"),
        Expect("sns:Publish", f"arn:aws:sns:{s.region}:{s.account}:ml-pager", False,
               "only the warnings topic: paging people is another workflow's decision"),
        Expect("logs:PutLogEvents", f"{s.log_group('payments-api')}:log-stream:2026/12/01/[$LATEST]x", False,
               "another function's logs are not this function's to write (log injection)"),
    ], region=s.region))
    require(iam.no_broad_statements(r))
    require(iam.no_over_grants(r, iam.over_grants(r, s.needs(), region=s.region), lambda o: True,
                               f"The function needs sagemaker:UpdateEndpointWeightsAndCapacities on {s.endpoint_arn} "
                               f"(sagemaker:DescribeEndpoint there is accepted), sns:Publish on {s.topic_arn} and "
                               f"its own logs ({s.log_group()}:*), nothing more: the managed policy "
                               "AWSLambdaBasicExecutionRole grants logs on every log group. Least privilege: whoever "
                               "abuses the function gets exactly its role's permissions."))
