"""Checks of automated responses: what a Lambda function did when an alarm changed state.

A grader plays stories (metric data over a simulated clock, alarms evaluated minute by minute) and
collects, per story, the :class:`Effects`: the successful ``UpdateEndpointWeightsAndCapacities``
calls CloudTrail recorded (by anyone but the grader), the notifications the topic delivered to a
grader's SQS subscription, the endpoint's weights before and after, and, to explain a miss, what
EventBridge delivered for the rule and how the function's invocations ended. Responses are judged on
their effects, whatever the code looks like; the function's resource-based policy and execution
role's trust policy are judged with the IAM engine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mlalab.checking import Verdict, fail, ok
from mlalab.engines.iam import PolicyError, Request, evaluate, iter_statements

from .cloudtrail import Probe, resource_policy_probes
from .iam import RolePolicies

UPDATE_WEIGHTS = "UpdateEndpointWeightsAndCapacities"
LAMBDA_PERMISSIONS = "https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html"
EB_LAMBDA = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions"
ALARM_EVENTS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"


@dataclass(frozen=True)
class Change:
    """An alarm's state change, ``minute`` minutes into a story."""

    minute: int
    alarm: str
    before: str
    after: str


@dataclass
class Effects:
    """What happened during one story."""

    story: str  # in words, for messages
    updates: list[dict] = field(default_factory=list)  # CloudTrail records of successful weight updates
    notifications: list[dict] = field(default_factory=list)  # {"Subject": ..., "Message": ...}
    weights_before: dict[str, float] = field(default_factory=dict)
    weights_after: dict[str, float] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    deliveries: list[Any] = field(default_factory=list)  # EventBridge deliveries of the learner's rule
    invocations: list[Any] = field(default_factory=list)  # the function's invocations (any source)
    forced: bool = False  # the grader put the alarm into ALARM with SetAlarmState
    error: str | None = None  # the story could not be played to its end (why)


# --- reading state ------------------------------------------------------------------------------


def force_alarm(aws, alarm: str, state: str, reason: str) -> list[tuple[str, str]]:
    """Put an alarm into ALARM with SetAlarmState, as one tests what an alarm triggers, so the reaction is
    graded even when the alarm itself is wrong. An alarm already in ALARM goes through OK first: entering
    ALARM is the event. Returns the transitions made, (before, after) each."""
    transitions = []
    for target in ("OK", "ALARM") if state == "ALARM" else ("ALARM",):
        aws.client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue=target,
                                                 StateReason=f"mla-labs grader: {reason} (SetAlarmState)")
        transitions.append((state, target))
        state = target
    return transitions


def weight_updates(aws, endpoint: str, grader_keys: Sequence[str] = ("grader",)) -> list[dict]:
    """Successful UpdateEndpointWeightsAndCapacities calls on ``endpoint`` in CloudTrail's Event
    history, oldest first, except the grader's own (signed with one of ``grader_keys``)."""
    cloudtrail = aws.client("cloudtrail")
    records: list[dict] = []
    kwargs: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": UPDATE_WEIGHTS}]}
    while True:
        page = cloudtrail.lookup_events(**kwargs)
        for event in page.get("Events", []):
            record = json.loads(event["CloudTrailEvent"])
            identity = record.get("userIdentity") or {}
            if record.get("errorCode") or identity.get("accessKeyId") in grader_keys:
                continue
            if (record.get("requestParameters") or {}).get("endpointName") == endpoint:
                records.append(record)
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return sorted(records, key=lambda r: r.get("eventTime", ""))


def endpoint_weights(aws, endpoint: str) -> dict[str, float]:
    """Each variant's current weight (DescribeEndpoint)."""
    described = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    return {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described.get("ProductionVariants", [])}


def notifications(bodies: Sequence[str], topic_arn: str) -> list[dict]:
    """The notifications of ``topic_arn`` among the bodies a subscribed SQS queue received (SNS's JSON
    envelope, not raw message delivery), reduced to their Subject and Message. Anything else in the
    queue was not sent by the topic and is not counted."""
    found = []
    for body in bodies:
        try:
            envelope = json.loads(body)
        except ValueError:
            continue
        if isinstance(envelope, dict) and envelope.get("TopicArn") == topic_arn and "Message" in envelope:
            found.append({"Subject": envelope.get("Subject") or "", "Message": str(envelope["Message"])})
    return found


# --- explaining what the function did -------------------------------------------------------------


def _caller(record: dict) -> str:
    identity = record.get("userIdentity") or {}
    return identity.get("arn") or identity.get("principalId") or "an unknown caller"


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{variant}={weight:g}" for variant, weight in weights.items()) or "unknown"


def _invocation_outcomes(effects: Effects) -> str:
    if not effects.invocations:
        return ""
    failed = [i for i in effects.invocations if i.status == "failed"]
    text = f" The function was invoked {len(effects.invocations)} time(s)"
    if not failed:
        return text + " and returned without an error."
    last = failed[-1].outcome
    error = (last.error or {}) if last is not None else {}
    detail = f"{error.get('errorType', 'an error')}: {str(error.get('errorMessage', ''))[:300]}" if error \
        else (failed[-1].reason or "an error")
    return (text + f"; {len(failed)} failed (after Lambda's retries), the last with {detail}. Its log group "
            "/aws/lambda/<function> holds the traceback.")


def why_nothing(effects: Effects, rule_name: str, alarm_name: str) -> str:
    """Where the chain alarm -> event -> rule -> function -> API call broke in a story, in words."""
    entered = [c for c in effects.changes if c.alarm == alarm_name and c.after == "ALARM"]
    if not entered and not effects.forced:
        return f" Alarm {alarm_name} never entered ALARM in this story."
    failed = [d for d in effects.deliveries if d.status == "failed"]
    if not effects.deliveries:
        return (f" No event reached a target of rule {rule_name}: the rule does not exist, has no target, or its "
                f"pattern does not match alarm {alarm_name}'s 'CloudWatch Alarm State Change' event (source "
                f"aws.cloudwatch, resources [the alarm's ARN], detail.alarmName, detail.state.value) ({ALARM_EVENTS}).")
    if failed and len(failed) == len(effects.deliveries):
        reasons = "; ".join(sorted({d.reason or "unknown" for d in failed}))
        return f" Rule {rule_name} matched, but EventBridge could not deliver: {reasons}."
    return _invocation_outcomes(effects) or " The function was not invoked."


# --- behaviour ------------------------------------------------------------------------------------


def rolled_back(effects: Effects, endpoint: str, production: str, challenger: str, rule_name: str,
                alarm_name: str) -> Verdict:
    """After the alarm entered ALARM: production has every request (challenger weight 0), set by
    exactly one weight update that is not the grader's."""
    after = effects.weights_after
    routed = after.get(production, 0.0) > 0 and after.get(challenger, 1.0) == 0 and \
        all(weight == 0 for variant, weight in after.items() if variant != production)
    forced = (" (your alarm had not fired, so the grader forced it into ALARM with SetAlarmState, as you would to "
              "test an alarm's reaction)") if effects.forced else ""
    if not effects.updates:
        return fail(f"endpoint {endpoint}: during '{effects.story}' alarm {alarm_name} entered ALARM{forced}, but "
                    f"nobody called {UPDATE_WEIGHTS}; the weights stayed {_weights(after)}; expected "
                    f"{production} to take every request and {challenger} none."
                    f"{why_nothing(effects, rule_name, alarm_name)} An automated rollback is a chain: the alarm's "
                    "state change is an event on the default bus, a rule routes it to the function, and the "
                    "function shifts the traffic.")
    if not routed:
        return fail(f"endpoint {endpoint}: after '{effects.story}' the weights are {_weights(after)} (they were "
                    f"{_weights(effects.weights_before)}); expected {production} > 0 and {challenger} = 0. Weights "
                    f"are relative: a variant gets weight / sum of weights of the requests, so rolling back the "
                    f"challenger means DesiredWeight 0 for it and a positive weight for production.")
    if len(effects.updates) > 1:
        return fail(f"endpoint {endpoint}: {len(effects.updates)} {UPDATE_WEIGHTS} calls during '{effects.story}' "
                    f"(by {', '.join(dict.fromkeys(_caller(r) for r in effects.updates))}); expected exactly one. "
                    "Each call starts an endpoint update; a second one while it is Updating fails in AWS. Is the "
                    "function invoked twice (two rules or targets), or does it fail after the update and get "
                    f"retried?{_invocation_outcomes(effects)}")
    return ok()


def _mentions(notification: dict, text: str) -> bool:
    return text in notification["Subject"] or text in notification["Message"]


def warned_once(effects: Effects, topic: str, endpoint: str, rule_name: str, alarm_name: str) -> Verdict:
    """Exactly one notification during the story, naming the endpoint."""
    found = effects.notifications
    if not found:
        return fail(f"topic {topic}: no message arrived during '{effects.story}'; expected one warning that names "
                    f"endpoint {endpoint}.{why_nothing(effects, rule_name, alarm_name)}")
    if len(found) > 1:
        subjects = "; ".join(repr((n["Subject"] or n["Message"])[:80]) for n in found[:4])
        return fail(f"topic {topic}: {len(found)} messages arrived during '{effects.story}' ({subjects}); expected "
                    "exactly one. If the alarm lists the topic in AlarmActions, CloudWatch posts its own "
                    "notification as well as your function's: one incident, one message, or people learn to "
                    f"ignore the topic.{_invocation_outcomes(effects)}")
    if not _mentions(found[0], endpoint):
        return fail(f"topic {topic}: the warning ({(found[0]['Subject'] or found[0]['Message'])[:200]!r}) does not "
                    f"name endpoint {endpoint}; a warning must say what happened where (the endpoint, and that its "
                    "traffic moved to production), so whoever reads it can act.")
    return ok()


def did_nothing(effects: Sequence[Effects], topic: str, expected: str, alarm_name: str) -> Verdict:
    """No weight update, no weight change and no message in any of these stories, except those where
    the learner's own alarm entered ALARM (acting then is right; the alarm-fires check judges the
    alarm)."""
    for story in effects:
        if story.error:
            return fail(f"the grader could not play '{story.story}': {story.error}")
        if any(c.alarm == alarm_name and c.after == "ALARM" for c in story.changes):
            continue
        moved = story.weights_after != story.weights_before
        if not story.updates and not story.notifications and not moved:
            continue
        happened = []
        if story.updates:
            happened.append(f"{len(story.updates)} {UPDATE_WEIGHTS} call(s) by "
                            f"{', '.join(dict.fromkeys(_caller(r) for r in story.updates))} (weights "
                            f"{_weights(story.weights_before)} -> {_weights(story.weights_after)})")
        elif moved:
            happened.append(f"the weights moved from {_weights(story.weights_before)} to "
                            f"{_weights(story.weights_after)}")
        if story.notifications:
            happened.append(f"{len(story.notifications)} message(s) on {topic}, e.g. "
                            f"{(story.notifications[0]['Subject'] or story.notifications[0]['Message'])[:120]!r}")
        changes = ", ".join(f"{c.alarm} {c.before} -> {c.after}" for c in story.changes) or "none"
        return fail(f"during '{story.story}': {'; '.join(happened)}; expected nothing. Alarm state changes in this "
                    f"story: {changes}. {expected}")
    return ok()


def alarm_fired(incident: Effects, quiet: Sequence[Effects], alarm_name: str, within: int, note: str) -> Verdict:
    """The alarm entered ALARM within ``within`` minutes of the incident's start, and never during the
    quiet stories."""
    for story in quiet:
        fired = [c for c in story.changes if c.alarm == alarm_name and c.after == "ALARM"]
        if fired:
            return fail(f"alarm {alarm_name} entered ALARM {fired[0].minute} minute(s) into '{story.story}', when "
                        "the challenger failed 1% of its requests; it must fire only when more than 5% fail. " + note)
    fired = [c for c in incident.changes if c.alarm == alarm_name and c.after == "ALARM"]
    if not fired or incident.forced:
        return fail(f"alarm {alarm_name} did not enter ALARM during '{incident.story}' (evaluated every minute); "
                    f"expected it within {within} minutes. " + note)
    if fired[0].minute > within:
        return fail(f"alarm {alarm_name} entered ALARM {fired[0].minute} minutes into '{incident.story}'; expected "
                    f"within {within}: 2 out of 3 one-minute datapoints above 5% fire after two bad minutes. " + note)
    return ok()


# --- configuration -----------------------------------------------------------------------------------


def invoke_permission(policy: str | None, function_arn: str, rule_arn: str, account: str, region: str) -> Verdict:
    """The function's resource-based policy lets EventBridge invoke it for this rule, and for no other."""
    other = "444455556666"

    def from_rule(arn: str, source_account: str) -> dict[str, str]:
        return {"aws:SourceArn": arn, "aws:SourceAccount": source_account}

    return resource_policy_probes(f"function {function_arn.rsplit(':', 1)[-1]}", policy, [
        Probe("events.amazonaws.com", "lambda:InvokeFunction", function_arn, True, "your rule invokes it",
              from_rule(rule_arn, account)),
        Probe("events.amazonaws.com", "lambda:InvokeFunction", function_arn, False,
              "any other rule of the account could then trigger a rollback of production traffic",
              from_rule(f"arn:aws:events:{region}:{account}:rule/any-other-rule", account)),
        Probe("events.amazonaws.com", "lambda:InvokeFunction", function_arn, False,
              "a rule in another account could trigger it (the confused deputy problem)",
              from_rule(f"arn:aws:events:{region}:{other}:rule/spoof", other)),
        Probe("*", "lambda:InvokeFunction", function_arn, False, "anonymous callers must never invoke it"),
    ], "Add the permission with lambda.add_permission(Action='lambda:InvokeFunction', "
       f"Principal='events.amazonaws.com', SourceArn=<the rule's ARN>) ({EB_LAMBDA}; {LAMBDA_PERMISSIONS}).", account)


def trusts_only(role: RolePolicies, service: str, purpose: str) -> Verdict:
    """Every Allow of the trust policy names only ``service`` and allows only sts:AssumeRole, and the
    service may assume the role."""
    if role.trust is None:
        return fail(f"role {role.name}: IAM would reject its trust policy ({role.trust_error}). A trust policy names "
                    f'who may assume the role: {{"Service": "{service}"}}.')
    decision = evaluate(Request("sts:AssumeRole", role.arn, principal=service), resource=[role.trust])
    if not decision.allowed:
        return fail(f"role {role.name}: its trust policy does not let {service} call sts:AssumeRole "
                    f"({decision.reason.rstrip('.')}), so {purpose} cannot run with it.")
    for index, statement in enumerate(iter_statements(role.trust)):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        others = ["everyone (*)"] if principal == "*" else [
            f"{kind} {value!r}" for kind, values in (principal or {}).items()
            for value in ([values] if isinstance(values, str) else values) if (kind, value) != ("Service", service)]
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        extra = [a for a in actions if a.lower() != "sts:assumerole"] + (["NotAction"] if "NotAction" in statement
                                                                          else [])
        if others or extra:
            problem = f"also trusts {', '.join(others)}" if others else f"also allows {', '.join(extra)}"
            return fail(f"role {role.name}: Statement[{index}] of its trust policy {problem}: {json.dumps(statement)}. "
                        f'Only {{"Service": "{service}"}} with sts:AssumeRole: whoever can assume the role can do '
                        f"everything {purpose} can.")
    return ok()


__all__ = ["Change", "Effects", "PolicyError", "alarm_fired", "did_nothing", "endpoint_weights", "invoke_permission",
           "notifications", "rolled_back", "trusts_only", "warned_once", "weight_updates", "why_nothing"]
