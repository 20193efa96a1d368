"""Replaying recorded metric timelines through alarms: every alarm is evaluated at each step, metric
alarms first, then composites in dependency order, each carrying its previous state, as CloudWatch
evaluates them continuously."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .alarms import ALARM, INSUFFICIENT_DATA, OK, AlarmState, evaluate_metric_alarm
from .composite import (
    CompositeRule,
    alarm_name_from_reference,
    composite_evaluation_order,
    evaluate_composite_rule,
    lookup_state,
    parse_composite_rule,
)
from .metrics import MetricStore, utc


@dataclass
class Replay:
    """Alarm name -> the state at each replay step (in time order)."""

    states: dict[str, list[AlarmState]]

    def _timeline(self, alarm_name: str) -> list[AlarmState]:
        if alarm_name not in self.states:
            raise KeyError(f"Alarm {alarm_name!r} was not part of the replay; known: {sorted(self.states)}")
        return self.states[alarm_name]

    def first_time_in(self, alarm_name: str, state: str) -> datetime | None:
        return next((s.timestamp for s in self._timeline(alarm_name) if s.state == state), None)

    def ever_in(self, alarm_name: str, state: str) -> bool:
        return self.first_time_in(alarm_name, state) is not None

    def state_at(self, alarm_name: str, at: datetime) -> str:
        """The state from the last step at or before ``at`` (INSUFFICIENT_DATA before the first)."""
        at = utc(at)
        current = INSUFFICIENT_DATA
        for step in self._timeline(alarm_name):
            if step.timestamp > at:
                break
            current = step.state
        return current

    def transitions(self, alarm_name: str) -> list[tuple[datetime, str]]:
        """(time, new state) for every change of state, starting with the first step."""
        out: list[tuple[datetime, str]] = []
        for step in self._timeline(alarm_name):
            if not out or out[-1][1] != step.state:
                out.append((step.timestamp, step.state))
        return out


def _composite_reason(rule: CompositeRule, states: Mapping[str, str], holds: bool) -> tuple[str, dict]:
    triggering = [r for r in rule.references if lookup_state(r, states) == ALARM]
    data = {"triggeringAlarms": [{"alarm": r, "state": {"value": lookup_state(r, states)}} for r in triggering]}
    verdict = "TRUE" if holds else "FALSE"
    if triggering:
        return f"Alarm rule evaluated to {verdict}; children in ALARM: {', '.join(triggering)}.", data
    return f"Alarm rule evaluated to {verdict}.", data


def replay(
    metric_alarms: list[dict],
    composite_alarms: list[dict],
    store: MetricStore,
    start: datetime,
    end: datetime,
    step_seconds: int = 60,
) -> Replay:
    """Evaluate every alarm at each step from ``start`` to ``end`` inclusive: metric alarms first,
    then composites in dependency order, each carrying its previous state (all start in
    INSUFFICIENT_DATA, as a newly created alarm does)."""
    if step_seconds <= 0:
        raise ValueError("step_seconds must be positive")
    start, end = utc(start), utc(end)
    rules = {c["AlarmName"]: parse_composite_rule(c["AlarmRule"]) for c in composite_alarms}
    arns = {a["AlarmName"]: a.get("AlarmArn") for a in [*metric_alarms, *composite_alarms]}
    known = set(arns) | {arn for arn in arns.values() if arn}
    for name, rule in rules.items():
        missing = [r for r in rule.references if r not in known and alarm_name_from_reference(r) not in known]
        if missing:
            raise ValueError(f"Composite alarm {name!r} references unknown alarms: {', '.join(missing)}")
    order, cyclic = composite_evaluation_order(rules)

    timelines: dict[str, list[AlarmState]] = {name: [] for name in arns}
    current = dict.fromkeys(arns, INSUFFICIENT_DATA)
    t = start
    while t <= end:
        for alarm in metric_alarms:
            name = alarm["AlarmName"]
            result = evaluate_metric_alarm(alarm, store, t, current[name])
            current[name] = result.state
            timelines[name].append(result)
        for name in [*order, *sorted(cyclic)]:
            if name in cyclic:
                result = AlarmState(
                    t, current[name], "Not evaluated: the composite alarm is part of a cycle."
                )
            else:
                holds = evaluate_composite_rule(rules[name], current)
                reason, data = _composite_reason(rules[name], current, holds)
                result = AlarmState(t, ALARM if holds else OK, reason, data)
            current[name] = result.state
            timelines[name].append(result)
        t += timedelta(seconds=step_seconds)
    return Replay(timelines)


def dumps_reason_data(state: AlarmState) -> str:
    """StateReasonData as CloudWatch puts it on the wire (a JSON string)."""
    return json.dumps(state.reason_data, separators=(",", ":"))
