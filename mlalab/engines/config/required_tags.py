"""The ``REQUIRED_TAGS`` managed rule, decided as AWS Config documents it.

Sources:

* "required-tags" (https://docs.aws.amazon.com/config/latest/developerguide/required-tags.html):
  parameters ``tag1Key`` (required) .. ``tag6Key`` and optional ``tagNValue`` ("Separate multiple
  values with commas"); a resource is COMPLIANT when it has every required key and, where values are
  given, one of them; otherwise NON_COMPLIANT. Keys and values are compared exactly (tags are
  case-sensitive: "Tag naming limits and requirements",
  https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
* ``Scope`` (https://docs.aws.amazon.com/config/latest/APIReference/API_Scope.html): resource types,
  or a tag key (and value), or one resource type and ID. Out-of-scope resources get no result.
* Evaluation results (https://docs.aws.amazon.com/config/latest/APIReference/API_EvaluationResult.html):
  ``NOT_APPLICABLE`` for a resource in scope that was deleted (Config keeps the result until it is
  cleaned up); a rule's overall compliance is NON_COMPLIANT when any result is, COMPLIANT when all
  are, INSUFFICIENT_DATA without results ("Compliance", API_Compliance.html).

Which resources Config evaluates is what the configuration recorder records: SageMaker training
and processing jobs are not AWS Config resource types ("Supported Resource Types",
https://docs.aws.amazon.com/config/latest/developerguide/resource-config-reference.html), so no
Config rule ever sees them: guarding them takes a preventive control (an SCP on aws:RequestTag).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE = "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
MAX_TAGS = 6  # tag1Key .. tag6Key ("You can check up to 6 tags at a time")

# ARN resource part -> Config resource type, for the resources the labs create. Training and
# processing jobs are absent on purpose: Config does not record them (resource-config-reference).
_SAGEMAKER_TYPES = {"model": "AWS::SageMaker::Model", "notebook-instance": "AWS::SageMaker::NotebookInstance",
                    "endpoint-config": "AWS::SageMaker::EndpointConfig", "endpoint": "AWS::SageMaker::Endpoint"}


class ParameterError(ValueError):
    """InputParameters Config refuses (PutConfigRule answers InvalidParameterValueException)."""


@dataclass(frozen=True)
class RecordedResource:
    """A configuration item as the recorder holds it: type, ID (the name for these types) and tags."""

    resource_type: str
    resource_id: str
    tags: Mapping[str, str]
    arn: str = ""
    deleted: bool = False


@dataclass(frozen=True)
class Rule:
    """The parts of a Config rule REQUIRED_TAGS decides with."""

    name: str
    required: tuple[tuple[str, frozenset[str] | None], ...]  # (key, allowed values or None for any)
    resource_types: tuple[str, ...] = ()
    tag_key: str | None = None
    tag_value: str | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class Evaluation:
    resource_type: str
    resource_id: str
    compliance: str
    annotation: str | None = None
    arn: str = field(default="", compare=False)


def config_resource(arn: str) -> tuple[str, str] | None:
    """(Config resource type, resource ID) of an ARN the recorder records, or None (not a Config
    resource type, e.g. a training job)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, resource = parts[2], parts[5]
    if service == "s3" and "/" not in resource:
        return "AWS::S3::Bucket", resource
    if service == "logs" and resource.startswith("log-group:"):
        return "AWS::Logs::LogGroup", resource.removeprefix("log-group:").removesuffix(":*")
    if service == "sagemaker" and "/" in resource:
        kind, name = resource.split("/", 1)
        if kind in _SAGEMAKER_TYPES:
            return _SAGEMAKER_TYPES[kind], name
    return None


def parse_parameters(input_parameters: str | Mapping[str, str] | None) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """The required (key, allowed values) pairs from the rule's InputParameters (a JSON string).
    tag1Key is required; a tagNValue without its tagNKey, or an unknown parameter, is refused."""
    if isinstance(input_parameters, str):
        try:
            params = json.loads(input_parameters) if input_parameters.strip() else {}
        except ValueError as exc:
            raise ParameterError(f"Invalid json {input_parameters} passed in the InputParameters field") from exc
    else:
        params = dict(input_parameters or {})
    if not isinstance(params, dict):
        raise ParameterError(f"Invalid json {input_parameters} passed in the InputParameters field")
    allowed_names = {f"tag{i}{part}" for i in range(1, MAX_TAGS + 1) for part in ("Key", "Value")}
    unknown = sorted(set(params) - allowed_names)
    if unknown:
        raise ParameterError(f"Unknown parameters provided in the inputParameters: {json.dumps(params)}")
    if not params.get("tag1Key"):
        raise ParameterError("The required parameter [tag1Key] is not present in the inputParameters")
    required = []
    for i in range(1, MAX_TAGS + 1):
        key, values = params.get(f"tag{i}Key"), params.get(f"tag{i}Value")
        if not key:
            if values:
                raise ParameterError(f"tag{i}Value is given without tag{i}Key")
            continue
        allowed = frozenset(v.strip() for v in str(values).split(",") if v.strip()) if values else None
        required.append((str(key), allowed or None))
    return tuple(required)


def in_scope(rule: Rule, resource: RecordedResource) -> bool:
    """Whether the rule's Scope covers the resource (API_Scope): resource types, one ID, a tag."""
    if rule.resource_types and resource.resource_type not in rule.resource_types:
        return False
    if rule.resource_id is not None and resource.resource_id != rule.resource_id:
        return False
    if rule.tag_key is not None:
        if rule.tag_key not in resource.tags:
            return False
        if rule.tag_value is not None and resource.tags[rule.tag_key] != rule.tag_value:
            return False
    return True


def _check(required: Iterable[tuple[str, frozenset[str] | None]], tags: Mapping[str, str]) -> str | None:
    """Why the tags break the rule, or None."""
    for key, allowed in required:
        if key not in tags:
            near = next((k for k in tags if k.lower() == key.lower()), None)
            return f"missing tag {key}" + (f" (found {near!r}: tag keys are case-sensitive)" if near else "")
        if allowed is not None and tags[key] not in allowed:
            return f"tag {key} is {tags[key]!r}, not one of {', '.join(sorted(allowed))}"
    return None


def evaluate_rule(rule: Rule, resources: Iterable[RecordedResource]) -> list[Evaluation]:
    """One result per recorded resource in scope, ordered by type and ID."""
    results = []
    for resource in resources:
        if not in_scope(rule, resource):
            continue
        if resource.deleted:
            results.append(Evaluation(resource.resource_type, resource.resource_id, NOT_APPLICABLE, arn=resource.arn))
            continue
        why = _check(rule.required, resource.tags)
        results.append(Evaluation(resource.resource_type, resource.resource_id, NON_COMPLIANT if why else COMPLIANT,
                                  why, arn=resource.arn))
    return sorted(results, key=lambda e: (e.resource_type, e.resource_id))


def rule_compliance(results: Iterable[Evaluation]) -> tuple[str, int]:
    """The rule's compliance and its count of non-compliant resources (API_Compliance)."""
    kinds = [r.compliance for r in results if r.compliance != NOT_APPLICABLE]
    if not kinds:
        return INSUFFICIENT_DATA, 0
    bad = kinds.count(NON_COMPLIANT)
    return (NON_COMPLIANT if bad else COMPLIANT), bad


