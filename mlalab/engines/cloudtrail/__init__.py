"""The CloudTrail engine: records in AWS's format, Event history with LookupEvents semantics, trail
event selectors, and trail delivery (log files and signed digest files). Pure: no moto, no I/O; the
wire layer (:mod:`fixtures.moto_ext.cloudtrail`) feeds it the calls made against the lab's server."""

from __future__ import annotations

from . import delivery, identity
from .history import ATTRIBUTE_KEYS, MAX_RESULTS, EventHistory, LookupError_
from .records import (
    EVENT_VERSION,
    build_record,
    camel_keys,
    data_resource_type,
    event_source,
    is_read_only,
    iso,
    s3_request_parameters,
    s3_resources,
)
from .selectors import selects

__all__ = ["ATTRIBUTE_KEYS", "EVENT_VERSION", "MAX_RESULTS", "EventHistory", "LookupError_", "build_record",
           "camel_keys", "data_resource_type", "delivery", "event_source", "identity", "is_read_only", "iso",
           "s3_request_parameters", "s3_resources", "selects"]
