"""Composite alarm rules: the AlarmRule language of PutCompositeAlarm
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html) and
"Create a composite alarm"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html).

``NOT`` binds tighter than ``AND``, which binds tighter than ``OR`` (the docs do not state precedence;
this is the usual boolean convention, and parentheses always win). Keywords are case-insensitive.
Alarm references may be bare or double-quoted names or alarm ARNs. ``AT_LEAST(n, STATE, (a, b))`` and
``AT_LEAST(n%, NOT STATE, (...))`` count the listed alarms in (or not in) a state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

from .alarms import ALARM, INSUFFICIENT_DATA, OK
from .notifications import aws_time


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class StateIs:
    state: str
    alarm: str


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class And:
    operands: tuple


@dataclass(frozen=True)
class Or:
    operands: tuple


@dataclass(frozen=True)
class AtLeast:
    count: int | None
    percent: Fraction | None
    state: str
    negate: bool
    alarms: tuple[str, ...]


@dataclass(frozen=True)
class CompositeRule:
    """A parsed AlarmRule: ``expr`` is the syntax tree, ``references`` the alarms it names."""

    text: str
    expr: object
    references: tuple[str, ...]


_STATE_FUNCTIONS = {"ALARM": ALARM, "OK": OK, "INSUFFICIENT_DATA": INSUFFICIENT_DATA}
_WORD = re.compile(r"[A-Za-z_]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?%?")


class _RuleParser:
    """Recursive descent over the raw text: alarm names are free text inside STATE(...), so the
    lexer must know whether it is reading a keyword or a name."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.references: list[str] = []

    def error(self, message: str) -> ValueError:
        return ValueError(message)

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _unsupported(self) -> ValueError:
        self._skip()
        if self.pos >= len(self.text):
            return self.error(f"Unexpected end of rule at char {self.pos}")
        word = _WORD.match(self.text, self.pos)
        token = word.group(0) if word else self.text[self.pos]
        return self.error(f"Unsupported token '{token}' at char {self.pos}")

    def _keyword(self) -> str | None:
        """The upper-cased keyword at the cursor (without consuming it), if any."""
        self._skip()
        word = _WORD.match(self.text, self.pos)
        return word.group(0).upper() if word else None

    def _consume_keyword(self, keyword: str) -> None:
        self._skip()
        self.pos += len(keyword)

    def _expect(self, char: str) -> None:
        self._skip()
        if self.pos >= len(self.text) or self.text[self.pos] != char:
            found = self.text[self.pos] if self.pos < len(self.text) else "end of rule"
            raise self.error(f"Expected '{char}' but found '{found}' at char {self.pos}")
        self.pos += 1

    def parse(self) -> CompositeRule:
        if not self.text.strip():
            raise self.error("AlarmRule is empty")
        expr = self._or()
        self._skip()
        if self.pos != len(self.text):
            raise self._unsupported()
        return CompositeRule(self.text, expr, tuple(dict.fromkeys(self.references)))

    def _or(self) -> object:
        operands = [self._and()]
        while self._keyword() == "OR":
            self._consume_keyword("OR")
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _and(self) -> object:
        operands = [self._not()]
        while self._keyword() == "AND":
            self._consume_keyword("AND")
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _not(self) -> object:
        if self._keyword() == "NOT":
            self._consume_keyword("NOT")
            return Not(self._not())
        return self._primary()

    def _primary(self) -> object:
        self._skip()
        if self.pos < len(self.text) and self.text[self.pos] == "(":
            self.pos += 1
            expr = self._or()
            self._expect(")")
            return expr
        keyword = self._keyword()
        if keyword in ("TRUE", "FALSE"):
            self._consume_keyword(keyword)
            return Const(keyword == "TRUE")
        if keyword in _STATE_FUNCTIONS:
            self._consume_keyword(keyword)
            self._expect("(")
            name = self._alarm_reference(")")
            self._expect(")")
            return StateIs(_STATE_FUNCTIONS[keyword], name)
        if keyword == "AT_LEAST":
            self._consume_keyword(keyword)
            return self._at_least()
        raise self._unsupported()

    def _alarm_reference(self, terminators: str) -> str:
        """A double-quoted name (backslash escapes the quote) or bare text up to a terminator."""
        self._skip()
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            self.pos += 1
            chars = []
            while self.pos < len(self.text) and self.text[self.pos] != '"':
                if self.text[self.pos] == "\\" and self.pos + 1 < len(self.text):
                    self.pos += 1
                chars.append(self.text[self.pos])
                self.pos += 1
            if self.pos >= len(self.text):
                raise self.error("Unterminated quoted alarm name")
            self.pos += 1
            name = "".join(chars)
        else:
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos] not in terminators:
                self.pos += 1
            name = self.text[start : self.pos].strip()
        if not name:
            raise self.error(f"Missing alarm name at char {self.pos}")
        self.references.append(name)
        return name

    def _at_least(self) -> AtLeast:
        self._expect("(")
        self._skip()
        number = _NUMBER.match(self.text, self.pos)
        if not number:
            raise self.error(f"AT_LEAST needs a count or a percentage at char {self.pos}")
        self.pos = number.end()
        raw = number.group(0)
        self._expect(",")
        negate = self._keyword() == "NOT"
        if negate:
            self._consume_keyword("NOT")
        keyword = self._keyword()
        if keyword not in _STATE_FUNCTIONS:
            raise self._unsupported()
        self._consume_keyword(keyword)
        self._expect(",")
        self._expect("(")
        alarms = [self._alarm_reference(",)")]
        while True:
            self._skip()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                alarms.append(self._alarm_reference(",)"))
                continue
            break
        self._expect(")")
        self._expect(")")
        if raw.endswith("%"):
            return AtLeast(None, Fraction(raw[:-1]), _STATE_FUNCTIONS[keyword], negate, tuple(alarms))
        return AtLeast(int(float(raw)), None, _STATE_FUNCTIONS[keyword], negate, tuple(alarms))


def parse_composite_rule(rule: str) -> CompositeRule:
    """Parse an AlarmRule; raises ValueError with the position of the first bad token."""
    if rule is None:
        raise ValueError("AlarmRule is required")
    return _RuleParser(rule).parse()


def referenced_alarms(rule: str) -> list[str]:
    """Alarm names/ARNs the rule refers to, in order of first appearance, without duplicates."""
    return list(parse_composite_rule(rule).references)


def alarm_name_from_reference(reference: str) -> str:
    """``arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu`` -> ``cpu``; names pass through."""
    if reference.startswith("arn:") and ":alarm:" in reference:
        return reference.split(":alarm:", 1)[1]
    return reference


def lookup_state(reference: str, states: Mapping[str, str]) -> str:
    """The state of a referenced alarm, found by name or ARN either way round."""
    if reference in states:
        return states[reference]
    name = alarm_name_from_reference(reference)
    if name in states:
        return states[name]
    for key, value in states.items():
        if key.startswith("arn:") and alarm_name_from_reference(key) == name:
            return value
    raise KeyError(f"No state for alarm {reference!r} referenced in the composite rule")


def _holds(expr: object, states: Mapping[str, str]) -> bool:
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, StateIs):
        return lookup_state(expr.alarm, states) == expr.state
    if isinstance(expr, Not):
        return not _holds(expr.operand, states)
    if isinstance(expr, And):
        return all(_holds(o, states) for o in expr.operands)
    if isinstance(expr, Or):
        return any(_holds(o, states) for o in expr.operands)
    if isinstance(expr, AtLeast):
        matching = sum(1 for a in expr.alarms if (lookup_state(a, states) == expr.state) != expr.negate)
        if expr.percent is not None:
            return matching * 100 >= expr.percent * len(expr.alarms)
        return matching >= (expr.count or 0)
    raise TypeError(f"Not a composite rule node: {expr!r}")


def evaluate_composite_rule(rule: str | CompositeRule, states: dict[str, str]) -> bool:
    """True when the composite rule holds given child alarm states keyed by name or ARN."""
    parsed = rule if isinstance(rule, CompositeRule) else parse_composite_rule(rule)
    return _holds(parsed.expr, states)


def composite_evaluation_order(composites: Mapping[str, CompositeRule]) -> tuple[list[str], set[str]]:
    """Order composites so that children come before parents; also return those caught in a cycle
    (CloudWatch stops evaluating them, so they keep their state)."""
    deps = {
        name: {alarm_name_from_reference(r) for r in rule.references} & composites.keys()
        for name, rule in composites.items()
    }
    order: list[str] = []
    done: set[str] = set()
    progress = True
    while progress:
        progress = False
        for name in composites:
            if name not in done and deps[name] <= done:
                order.append(name)
                done.add(name)
                progress = True
    return order, set(composites) - done


# ---- state reasons ------------------------------------------------------------------------------
# The wording CloudWatch writes when a composite alarm changes state, as recorded in the composite
# examples of "Alarm events and EventBridge"
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html):
#   reason: "arn:...:alarm:FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC"
#   reason: "arn:...:alarm:Main was created and its alarm rule evaluates to OK"
#   reasonData: {"triggeringAlarms":[{"arn":"arn:...",
#                                     "state":{"value":"ALARM","timestamp":"2022-07-22T15:57:45.394+0000"}}]}

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


@dataclass(frozen=True)
class ChildState:
    """A composite's child as its state reason names it: ARN, state value and when it entered it."""

    arn: str
    value: str
    timestamp: datetime


def reason_time(at: datetime) -> str:
    """``Friday 22 July, 2022 15:57:45 UTC``: the long form composite reasons use (English names
    whatever the process locale, as CloudWatch writes them)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return f"{_DAYS[at.weekday()]} {at.day:02d} {_MONTHS[at.month - 1]}, {at.year} {at:%H:%M:%S} UTC"


def composite_transition_reason(child: ChildState) -> str:
    """The reason of a composite whose state changed because ``child`` changed state."""
    return f"{child.arn} transitioned to {child.value} at {reason_time(child.timestamp)}"


def composite_configured_reason(arn: str, state: str, created: bool = True) -> str:
    """The reason of a composite evaluated because it was created (documented wording) or updated
    (the same sentence with "updated": AWS's examples show only the creation)."""
    return f"{arn} was {'created' if created else 'updated'} and its alarm rule evaluates to {state}"


def composite_reason_data(state: str, children: Sequence[ChildState]) -> dict:
    """``{"triggeringAlarms": [...]}``: for ALARM the children in ALARM, otherwise the children not in
    ALARM (the documented OK examples list every OK child), most recently changed first as in those
    examples; each with its state value and timestamp."""
    chosen = [c for c in children if (c.value == ALARM) == (state == ALARM)]
    chosen.sort(key=lambda c: _aware(c.timestamp), reverse=True)
    return {"triggeringAlarms": [{"arn": c.arn, "state": {"value": c.value, "timestamp": aws_time(c.timestamp)}}
                                 for c in chosen]}


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
