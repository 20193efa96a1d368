"""The tag restrictions every service shares, applied to every request that adds tags.

AWS: "Tag naming limits and requirements",
https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions:

- "Maximum number of tags per resource – 50";
- "Do not use aws:, AWS:, or any upper or lowercase combination of such as a prefix for either keys or
  values as it is reserved for AWS use. You can't edit or delete tag keys or values with this prefix. Tags
  with this prefix do not count against your tags per resource limit."

A request's own size (at most 50 tags in one request) is a model constraint of most services and is
checked there; the quota here is the resource's total after the request, which needs the tags the
resource already has: ``lookup("tags", service=..., resource=...)`` answers their keys (or None when
the wire layer does not know the resource: the quota is then skipped, never guessed).

Errors, per service (each the service's own code):

- EC2: ``InvalidParameterValue`` "Tag keys starting with 'aws:' are reserved for internal use" (EC2's
  answer to RunInstances/CreateTags with such a key); ``TagLimitExceeded`` (Error codes for the Amazon EC2 API,
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html; the message is the one moto's
  own CreateTags answers, so a refusal reads the same whichever layer makes it).
- CloudWatch Logs: ``TooManyTagsException`` ("A resource can have no more than 50 tags.", the error's
  documentation in the Logs API reference); a reserved key is an ``InvalidParameterException``.
- SageMaker and the Resource Groups Tagging API: their validation error (``ValidationException``,
  ``InvalidParameterException``); their exact wording for these two cases is not published, so the
  message states the documented restriction.

Not applied: S3 (moto already answers a reserved key with S3's ``InvalidTag``, and PutBucketTagging
replaces the whole set, so the request's own size is the resource's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import Lookup, Rejection

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"
EC2_TAG_LIMIT = "The maximum number of Tags for a resource has been reached."


def _pairs(tags: Any) -> list[tuple[str, str]]:
    """(key, value) pairs from a tag list (``[{"Key", "Value"}]``) or a tag map (``{key: value}``)."""
    if isinstance(tags, Mapping):
        return [(str(k), str(v)) for k, v in tags.items()]
    pairs = []
    for tag in tags or []:
        if isinstance(tag, Mapping):
            pairs.append((str(tag.get("Key", tag.get("key", ""))), str(tag.get("Value", tag.get("value", "")))))
    return pairs


def _reserved(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The first key (or value) that starts with the reserved prefix, in any case."""
    for key, value in pairs:
        for text in (key, value):
            if text.lower().startswith(RESERVED_PREFIX):
                return text
    return None


def _user_keys(keys: Iterable[str]) -> set[str]:
    """The keys that count against the quota (AWS's own ``aws:`` tags do not)."""
    return {k for k in keys if not k.lower().startswith(RESERVED_PREFIX)}


def _over_quota(lookup: Lookup | None, service: str, resource: Any, pairs: list[tuple[str, str]]) -> bool:
    new = _user_keys(k for k, _ in pairs)
    if len(new) > MAX_TAGS:
        return True
    existing = lookup("tags", service=service, resource=resource) if lookup and resource else None
    return existing is not None and len(_user_keys(existing) | new) > MAX_TAGS


def _message_reserved(text: str) -> str:
    return (f"The tag '{text}' is not valid: tag keys and values starting with 'aws:' (in any case) are reserved "
            "for AWS use.")


def _message_quota() -> str:
    return f"A resource can have at most {MAX_TAGS} tags (tags whose key starts with 'aws:' do not count)."


# --- the rules, per service ------------------------------------------------------------------------------


def sagemaker_tags(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
    """SageMaker: no tag key or value starts with 'aws:', and a resource holds at most 50 tags (AddTags, Create*)"""
    pairs = _pairs(p.get("Tags"))
    reserved = _reserved(pairs)
    if reserved is not None:
        return Rejection("ValidationException", _message_reserved(reserved))
    if _over_quota(lookup, "sagemaker", p.get("ResourceArn"), pairs):
        return Rejection("ValidationException", _message_quota())
    return None


def ec2_create_tags(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
    """EC2: no tag key starts with 'aws:', and each resource holds at most 50 tags (CreateTags)"""
    pairs = _pairs(p.get("Tags"))
    if any(k.lower().startswith(RESERVED_PREFIX) for k, _ in pairs):
        return Rejection("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
    for resource in p.get("Resources") or []:
        if _over_quota(lookup, "ec2", resource, pairs):
            return Rejection("TagLimitExceeded", EC2_TAG_LIMIT)
    return None


def ec2_tag_specifications(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """EC2: tags given at creation (TagSpecifications) use no 'aws:' key and at most 50 per resource"""
    for spec in p.get("TagSpecifications") or []:
        pairs = _pairs(spec.get("Tags") if isinstance(spec, Mapping) else None)
        if any(k.lower().startswith(RESERVED_PREFIX) for k, _ in pairs):
            return Rejection("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
        if len(_user_keys(k for k, _ in pairs)) > MAX_TAGS:
            return Rejection("TagLimitExceeded", EC2_TAG_LIMIT)
    return None


def _logs_rule(tags_member: str, resource_member: str | None):
    def rule(p: Mapping[str, Any], lookup: Lookup | None) -> Rejection | None:
        pairs = _pairs(p.get(tags_member))
        reserved = _reserved(pairs)
        if reserved is not None:
            return Rejection("InvalidParameterException", _message_reserved(reserved))
        resource = p.get(resource_member) if resource_member else None
        if _over_quota(lookup, "logs", resource, pairs):
            return Rejection("TooManyTagsException", "A resource can have no more than 50 tags.")
        return None

    rule.__doc__ = "CloudWatch Logs: no tag key or value starts with 'aws:', and a log group holds at most 50 tags"
    return rule


def tagging_api_tags(p: Mapping[str, Any], _: Lookup | None) -> Rejection | None:
    """Resource Groups Tagging API: no tag key or value starts with 'aws:' (TagResources)"""
    reserved = _reserved(_pairs(p.get("Tags")))
    if reserved is not None:
        return Rejection("InvalidParameterException", _message_reserved(reserved))
    return None


_SAGEMAKER_TAGGED = ("AddTags", "CreateEndpoint", "CreateEndpointConfig", "CreateModel", "CreateTrainingJob",
                     "CreateProcessingJob", "CreateNotebookInstance", "CreateMonitoringSchedule",
                     "CreateDataQualityJobDefinition", "CreateModelQualityJobDefinition", "CreatePipeline",
                     "CreateModelPackageGroup", "CreateTransformJob")
_EC2_TAGGED_AT_CREATION = ("CreateVpc", "CreateSubnet", "CreateSecurityGroup", "CreateRouteTable",
                           "CreateInternetGateway", "CreateNatGateway", "CreateNetworkAcl", "CreateVpcEndpoint",
                           "CreateFlowLogs", "RunInstances")

RULES: dict[str, dict[str, list]] = {
    "sagemaker": {op: [sagemaker_tags] for op in _SAGEMAKER_TAGGED},
    "ec2": {"CreateTags": [ec2_create_tags], **{op: [ec2_tag_specifications] for op in _EC2_TAGGED_AT_CREATION}},
    "logs": {"TagResource": [_logs_rule("tags", "resourceArn")], "TagLogGroup": [_logs_rule("tags", "logGroupName")],
             "CreateLogGroup": [_logs_rule("tags", None)]},
    "resourcegroupstaggingapi": {"TagResources": [tagging_api_tags]},
}
