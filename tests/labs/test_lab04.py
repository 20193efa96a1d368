"""Lab 04: grading behaviour specific to this lab (its wrong solutions, one per check, are in the lab's
own folder: ``mutations.py``; generated rewrites in ``rewrites.py``). The variants below are graded in
one session and each test reads the report a learner would see: where the chain alarm -> event ->
rule -> function -> API call broke, in words."""

from __future__ import annotations

import json

import pytest

from checks import actions
from checks.actions import Change, Effects
from mlalab.catalog import find_lab, lab_module
from tests.conftest import apply, failing, grade_sources

LAB = find_lab(4)
MUTATIONS = lab_module(LAB.path, "mutations").MUTATIONS
REFERENCE = LAB.solution_path.read_text()
BEHAVIOUR = {"rolls-back", "warns-once", "other-alarms-ignored", "other-states-ignored"}
PERMISSION = ('    lam.add_permission(FunctionName=function_name, StatementId=f"invoke-from-{rule_name}",\n'
              '                       Action="lambda:InvokeFunction", Principal="events.amazonaws.com", '
              'SourceArn=rule_arn)\n')

VARIANTS = {
    # No resource-based policy: the rule matches, EventBridge may not invoke the function.
    "no-permission": [(PERMISSION, "")],
    # A typo in an environment variable's name: every invocation fails with a KeyError, and is retried.
    "handler-crashes": [('endpoint = os.environ["ENDPOINT_NAME"]', 'endpoint = os.environ["ENDPOINT"]')],
    # A detail-type that CloudWatch never sends: no event matches the rule.
    "pattern-typo": [('"detail-type": ["CloudWatch Alarm State Change"]',
                      '"detail-type": ["CloudWatch Alarm State Changed"]')],
    # A second message (a debug line to the same topic).
    "two-messages": [('    print(f"rolled back {endpoint}',
                      '    boto3.client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Message=f"debug {endpoint}")\n'
                      '    print(f"rolled back {endpoint}')],
    # The statements of the AWS managed policy AWSLambdaBasicExecutionRole instead of the function's own.
    "basic-execution-role": [
        ('"Action": "logs:CreateLogGroup", "Resource": f"{log_group}:*"}',
         '"Action": "logs:CreateLogGroup", "Resource": f"arn:aws:logs:{region}:{account}:*"}'),
        ('"Resource": f"{log_group}:log-stream:*"}', '"Resource": "*"}')],
    "threshold-50": MUTATIONS["alarm-fires"],
    # 0.5 for 5%: the alarm fires in the quiet start and stays in ALARM.
    "threshold-half-percent": [("        Threshold=5,\n", "        Threshold=0.5,\n")],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sources = [apply(REFERENCE, edits) for edits in VARIANTS.values()]
    results = grade_sources(tmp_path_factory.mktemp("lab04"), LAB, sources, seed=4444)
    return dict(zip(VARIANTS, results, strict=True))


def message(result, check_id: str) -> str:
    return next(c.message for c in result.checks if c.id == check_id)


def test_missing_permission_names_the_resource_based_policy(graded):
    result = graded["no-permission"]
    assert failing(result) == BEHAVIOUR | {"invoke-permission"}
    text = message(result, "rolls-back")
    assert "matched, but EventBridge could not deliver" in text
    assert "resource-based policy of function" in text and "lambda:InvokeFunction" in text
    assert "graded once your function reacts" in message(result, "other-alarms-ignored")


def test_failing_handler_shows_its_error_and_its_log_group(graded):
    result = graded["handler-crashes"]
    assert failing(result) == BEHAVIOUR
    text = message(result, "rolls-back")
    assert "KeyError: 'ENDPOINT'" in text and "failed (after Lambda's retries)" in text
    assert "/aws/lambda/<function>" in text


def test_pattern_that_matches_nothing_is_named(graded):
    result = graded["pattern-typo"]
    assert failing(result) == BEHAVIOUR
    assert "No event reached a target of rule challenger-alarm-changes-" in message(result, "rolls-back")


def test_one_incident_one_message(graded):
    result = graded["two-messages"]
    assert failing(result) == {"warns-once"}
    assert "2 messages arrived during 'the challenger fails at 20% errors'" in message(result, "warns-once")


def test_managed_basic_execution_role_is_too_broad(graded):
    result = graded["basic-execution-role"]
    assert failing(result) == {"role-least-privilege"}
    text = message(result, "role-least-privilege")
    assert "can logs:PutLogEvents on arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/payments-api" in text
    assert "(log injection)" in text


def test_alarm_that_never_fires_is_forced_so_the_function_is_still_graded(graded):
    result = graded["threshold-50"]
    assert failing(result) == {"alarm-fires"}
    text = message(result, "alarm-fires")
    assert "did not enter ALARM during 'the challenger fails at 20% errors'" in text
    assert "fires above an error rate of 50%" in text


# --- the checks alone ---------------------------------------------------------------------------------


def test_notifications_are_the_topics_own():
    topic = "arn:aws:sns:us-east-1:123456789012:warnings"
    bodies = [json.dumps({"Type": "Notification", "TopicArn": topic, "Subject": "rolled back", "Message": "e"}),
              json.dumps({"Type": "Notification", "TopicArn": topic + "-other", "Message": "x"}), "sent to the queue"]
    assert actions.notifications(bodies, topic) == [{"Subject": "rolled back", "Message": "e"}]


def test_did_nothing_names_what_happened_and_the_alarm_changes():
    story = Effects("other alarms fire", updates=[{"userIdentity": {"arn": "arn:aws:sts::1:assumed-role/r/f"}}],
                    weights_before={"p": 0.9, "c": 0.1}, weights_after={"p": 1.0, "c": 0.0},
                    changes=[Change(3, "latency", "OK", "ALARM")])
    verdict = actions.did_nothing([story], "topic", "Only yours.", "mine")
    assert not verdict
    assert "1 UpdateEndpointWeightsAndCapacities call(s) by arn:aws:sts::1:assumed-role/r/f" in verdict.message
    assert "(weights p=0.9, c=0.1 -> p=1, c=0)" in verdict.message and "latency OK -> ALARM" in verdict.message
    assert actions.did_nothing([Effects("quiet")], "topic", "Only yours.", "mine")


def test_invoke_permission_needs_the_rule_as_source_arn():
    rule = "arn:aws:events:us-east-1:123456789012:rule/r"
    function = "arn:aws:lambda:us-east-1:123456789012:function:f"

    def policy(condition: dict | None) -> str:
        statement = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "lambda:InvokeFunction", "Resource": function}
        return json.dumps({"Version": "2012-10-17", "Statement": [dict(statement, Condition=condition)
                                                                  if condition else statement]})

    assert actions.invoke_permission(policy({"ArnLike": {"AWS:SourceArn": rule}}), function, rule,
                                     "123456789012", "us-east-1")
    unscoped = actions.invoke_permission(policy(None), function, rule, "123456789012", "us-east-1")
    assert not unscoped and "any other rule of the account" in unscoped.message
    assert "has no policy" in actions.invoke_permission(None, function, rule, "123456789012", "us-east-1").message


def test_alarm_stuck_in_alarm_is_judged_alone(graded):
    """The function reacting to its own alarm's (wrong) ALARM is right; the grader takes the alarm
    through OK back to ALARM in the incident, so only the alarm's check fails."""
    result = graded["threshold-half-percent"]
    assert failing(result) == {"alarm-fires"}
    text = message(result, "alarm-fires")
    assert "entered ALARM 2 minute(s) into 'a quiet start (challenger at 1% errors)'" in text
    assert "fires above an error rate of 0.5%, not 5%" in text
