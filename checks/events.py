"""EventBridge checks: what a rule's targets actually received after the grader acted (messages read
from an SQS queue: the target queue itself, or a queue of the grader's subscribed to the target topic),
with EventBridge's own delivery record (``fixtures.moto_ext.events.deliveries``) to explain a miss,
and the target resource policies that let EventBridge deliver, decided by the IAM engine.

Targets are judged on what arrived: any rule AWS would accept and that routes exactly the right events
passes, whatever its pattern looks like.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mlalab.checking import Verdict, fail, ok

from .cloudtrail import Probe, resource_policy_probes

RESOURCE_POLICY_DOC = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html"


def drain(aws, queue_url: str, limit: int = 100) -> list[str]:
    """Every message body waiting in the queue (received and deleted)."""
    sqs = aws.client("sqs")
    bodies: list[str] = []
    while len(bodies) < limit:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        bodies += [m["Body"] for m in batch]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    return bodies


def sns_messages(bodies: Sequence[str]) -> list[str]:
    """The ``Message`` of each SNS notification a subscribed SQS queue received."""
    messages = []
    for body in bodies:
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = None
        messages.append(envelope["Message"] if isinstance(envelope, dict) and "Message" in envelope else body)
    return messages


def as_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def delivery_problems(deliveries: Sequence[Any], rule_name: str) -> str:
    """Why EventBridge could not deliver for a rule (its failed deliveries' reasons), for a message."""
    reasons = sorted({d.reason for d in deliveries if d.rule_name == rule_name and d.status == "failed" and d.reason})
    if not reasons:
        return ""
    return (" EventBridge matched events but could not deliver them: " + "; ".join(reasons) + ". A target's "
            "resource-based policy must let events.amazonaws.com deliver (sns:Publish on the topic, "
            f"sqs:SendMessage on the queue), ideally only for your rule (aws:SourceArn) ({RESOURCE_POLICY_DOC}).")


@dataclass(frozen=True)
class Happened:
    """Something the grader did, and how to recognise the message it should (or should not) cause."""

    what: str
    matches: Callable[[Any], bool]  # called with the message parsed as JSON (or the raw text)


def cloudtrail_call(event_name: str, **parameters: str) -> Callable[[Any], bool]:
    """Matches an ``AWS API Call via CloudTrail`` event (or its ``detail``, the CloudTrail record) of
    ``event_name`` whose requestParameters hold ``parameters``."""
    def match(message: Any) -> bool:
        if not isinstance(message, dict):
            return False
        record = message.get("detail") if isinstance(message.get("detail"), dict) else message
        given = record.get("requestParameters") or {}
        return record.get("eventName") == event_name and all(given.get(k) == v for k, v in parameters.items())
    return match


def received_exactly(target: str, messages: Sequence[str], wanted: Sequence[Happened], unwanted: Sequence[Happened],
                     rule_name: str, deliveries: Sequence[Any], concept: str) -> Verdict:
    """Each wanted happening caused exactly one message, and nothing else arrived."""
    parsed = [as_json(m) if as_json(m) is not None else m for m in messages]
    missing = [w.what for w in wanted if sum(1 for p in parsed if w.matches(p)) == 0]
    repeated = [w.what for w in wanted if sum(1 for p in parsed if w.matches(p)) > 1]
    extra = [u.what for u in unwanted if any(u.matches(p) for p in parsed)]
    unknown = [m for m, p in zip(messages, parsed, strict=True)
               if not any(h.matches(p) for h in (*wanted, *unwanted))]
    if not (missing or repeated or extra or unknown):
        return ok()
    found = f"{len(messages)} message(s) arrived"
    parts = []
    if missing:
        parts.append("missing: " + "; ".join(missing))
    if repeated:
        parts.append("more than once: " + "; ".join(repeated))
    if extra:
        parts.append("should not have arrived: " + "; ".join(extra))
    if unknown:
        parts.append(f"{len(unknown)} unrecognised, e.g. {unknown[0][:160]!r}")
    explain = delivery_problems(deliveries, rule_name) if missing else ""
    return fail(f"{target}: {found}; " + ". ".join(parts) + "." + explain + " " + concept)


def target_policy_scoped(what: str, document: str | dict | None, action: str, resource: str, rule_arn: str,
                         account: str, region: str) -> Verdict:
    """The target's policy lets EventBridge deliver for this rule, and for no other rule."""
    other_account = "444455556666"

    def events(source: str, source_account: str) -> dict[str, str]:
        return {"aws:SourceArn": source, "aws:SourceAccount": source_account}

    return resource_policy_probes(what, document, [
        Probe("events.amazonaws.com", action, resource, True, "your rule delivers there", events(rule_arn, account)),
        Probe("events.amazonaws.com", action, resource, False,
              "a rule in another account could send anything to your target (the confused deputy problem)",
              events(f"arn:aws:events:{region}:{other_account}:rule/spoof", other_account)),
        Probe("events.amazonaws.com", action, resource, False,
              "any other rule in the account could inject messages that look like alerts or retraining requests",
              events(f"arn:aws:events:{region}:{account}:rule/any-other-rule", account)),
        Probe("*", action, resource, False, "anonymous callers must never publish or send"),
    ], "Grant events.amazonaws.com the action on the target with a Condition on aws:SourceArn = the rule's ARN "
       f"(ArnEquals or StringEquals), as AWS recommends for service principals ({RESOURCE_POLICY_DOC}).", account)


def transformed_message(target: str, bodies: Sequence[str], job: str, expected: dict[str, Any], rule_name: str,
                        deliveries: Sequence[Any]) -> Verdict:
    """The message about ``job`` is exactly the JSON object ``expected`` (what an input transformer makes)."""
    about = [b for b in bodies if job in b]
    shape = json.dumps(expected)
    if not about:
        return fail(f"{target}: no message about the failed training job {job} arrived, so its content cannot be "
                    f"checked; expected {shape}.{delivery_problems(deliveries, rule_name)}")
    body = about[0]
    if as_json(body) == expected:
        return ok()
    return fail(f"{target}: the message for {job} is {body[:300]!r}; expected exactly {shape}. Without a transformer "
                "the target receives the whole event; an InputTransformer picks fields with InputPathsMap "
                '({"job": "$.detail.TrainingJobName", "reason": "$.detail.FailureReason"}) and places them in '
                "InputTemplate, where an unquoted <job> is replaced by the JSON value (a quoted string). The "
                "retraining service reads only these two keys.")
