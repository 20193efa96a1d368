"""Which events a trail logs: basic event selectors and advanced event selectors.

Basic selectors (PutEventSelectors API reference, ``EventSelector`` and ``DataResource``
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html): a trail
without selectors logs every management event and no data event. A selector logs management events
when ``IncludeManagementEvents`` (default true) and their source is not in
``ExcludeManagementEventSources``; data events of its ``DataResources`` (S3: ``arn:aws:s3`` for all
buckets, else a bucket or ``bucket/prefix`` ARN that the object ARN starts with; Lambda: ``arn:aws:lambda``
or a function ARN); both filtered by ``ReadWriteType`` (ReadOnly, WriteOnly, All; default All).

Advanced selectors (``AdvancedFieldSelector``
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html): an event
is logged when any selector matches; a selector matches when all its field selectors match. Within a
field selector the positive operators (Equals, StartsWith, EndsWith) match when any of their values
does, and every value of the negative ones (NotEquals, NotStartsWith, NotEndsWith) must hold. Fields:
``eventCategory``, ``eventSource``, ``eventName``, ``eventType``, ``readOnly`` ("true"/"false"),
``resources.type``, ``resources.ARN``, ``userIdentity.arn``, ``errorCode``, ``sessionCredentialFromConsole``.
An event without the field (``resources.ARN`` of a management event) fails positive conditions and
passes negative ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_POSITIVE = {"Equals": str.__eq__, "StartsWith": str.startswith, "EndsWith": str.endswith}
_NEGATIVE = {"NotEquals": str.__eq__, "NotStartsWith": str.startswith, "NotEndsWith": str.endswith}


def data_resource(record: dict[str, Any]) -> tuple[str, str] | None:
    """(type, ARN) of the resource a data event is about: the S3 object, the Lambda function, ..."""
    resources = record.get("resources") or []
    if record.get("eventCategory") != "Data" or not resources:
        return None
    first = resources[0]
    return first.get("type", ""), first.get("ARN", "")


def _read_write(record: dict[str, Any], read_write_type: str | None) -> bool:
    wanted = read_write_type or "All"
    return wanted == "All" or (wanted == "ReadOnly") == bool(record.get("readOnly"))


def _basic(record: dict[str, Any], selector: dict[str, Any]) -> bool:
    if not _read_write(record, selector.get("ReadWriteType")):
        return False
    if record.get("managementEvent"):
        return bool(selector.get("IncludeManagementEvents", True)) and \
            record.get("eventSource") not in (selector.get("ExcludeManagementEventSources") or [])
    resource = data_resource(record)
    if resource is None:
        return False
    kind, arn = resource
    for data in selector.get("DataResources") or []:
        if data.get("Type") != kind:
            continue
        for value in data.get("Values") or []:
            if value in ("arn:aws:s3", "arn:aws:s3:::", "arn:aws:lambda") or arn == value or \
                    (kind == "AWS::S3::Object" and arn.startswith(value)):
                return True
    return False


def field_values(record: dict[str, Any], field: str) -> list[str]:
    """The values an advanced selector's field has in a record (several for ``resources.*``)."""
    if field == "readOnly":
        return ["true" if record.get("readOnly") else "false"]
    if field in ("resources.type", "resources.ARN"):
        resource = data_resource(record)
        if resource is None:
            return []
        return [resource[0] if field == "resources.type" else resource[1]]
    if field == "userIdentity.arn":
        value = (record.get("userIdentity") or {}).get("arn")
        return [value] if value else []
    value = record.get(field)
    return [str(value)] if value is not None else []


def _field_matches(record: dict[str, Any], selector: dict[str, Any]) -> bool:
    values = field_values(record, selector.get("Field", ""))
    positive = [(test, wanted) for op, test in _POSITIVE.items() for wanted in selector.get(op) or []]
    if positive and not any(test(value, wanted) for value in values for test, wanted in positive):
        return False
    return not any(test(value, wanted) for op, test in _NEGATIVE.items()
                   for wanted in selector.get(op) or [] for value in values)


def _advanced(record: dict[str, Any], selector: dict[str, Any]) -> bool:
    return all(_field_matches(record, field) for field in selector.get("FieldSelectors") or [])


def selects(record: dict[str, Any], event_selectors: Iterable[dict[str, Any]] | None = None,
            advanced_event_selectors: Iterable[dict[str, Any]] | None = None) -> bool:
    """Whether a trail with these selectors logs the record."""
    advanced = list(advanced_event_selectors or [])
    if advanced:
        return any(_advanced(record, selector) for selector in advanced)
    basic = list(event_selectors or [])
    if not basic:
        return bool(record.get("managementEvent"))
    return any(_basic(record, selector) for selector in basic)
