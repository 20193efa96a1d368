"""CloudTrail Event history and its LookupEvents semantics.

From the LookupEvents API reference (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):

* Event history holds the management events of the last 90 days of one region (data events are never
  in it: "Event history" in the user guide); the newest come first.
* ``LookupAttributes`` may hold at most one attribute; keys EventId, EventName, ReadOnly (``true`` or
  ``false``), Username, ResourceType, ResourceName, EventSource, AccessKeyId; values match exactly.
* ``StartTime``/``EndTime`` bound the window (inclusive; defaults: 90 days ago and now); a start after
  the end is an ``InvalidTimeRangeException``.
* ``MaxResults`` 1..50, default 50; ``NextToken`` continues the same lookup.
* ``EventCategory`` ``insight`` asks for Insights events (none are generated here, so the answer is empty).
* Each event carries ``EventId``, ``EventName``, ``ReadOnly`` (the string), ``AccessKeyId``, ``EventTime``,
  ``EventSource``, ``Username``, ``Resources`` (``ResourceType``/``ResourceName``) and ``CloudTrailEvent``,
  the whole record as a JSON string.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .identity import username

RETENTION = timedelta(days=90)
MAX_RESULTS = 50
ATTRIBUTE_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource",
                  "AccessKeyId")


class LookupError_(Exception):
    """A refused LookupEvents request: AWS's error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Entry:
    record: dict[str, Any]
    time: datetime
    resources: list[dict[str, str]] = field(default_factory=list)

    def attribute(self, key: str) -> list[str]:
        """The values of one lookup attribute this event can be found by."""
        record = self.record
        if key == "EventId":
            return [record["eventID"]]
        if key == "EventName":
            return [record["eventName"]]
        if key == "EventSource":
            return [record["eventSource"]]
        if key == "ReadOnly":
            return ["true" if record["readOnly"] else "false"]
        if key == "AccessKeyId":
            return [record["userIdentity"].get("accessKeyId", "")]
        if key == "Username":
            name = username(record["userIdentity"])
            return [name] if name else []
        if key == "ResourceType":
            return [r["ResourceType"] for r in self.resources]
        if key == "ResourceName":
            return [r["ResourceName"] for r in self.resources]
        return []

    def as_event(self) -> dict[str, Any]:
        record = self.record
        event: dict[str, Any] = {"EventId": record["eventID"], "EventName": record["eventName"],
                                 "ReadOnly": "true" if record["readOnly"] else "false"}
        key = record["userIdentity"].get("accessKeyId")
        if key:
            event["AccessKeyId"] = key
        event["EventTime"] = self.time
        event["EventSource"] = record["eventSource"]
        name = username(record["userIdentity"])
        if name:
            event["Username"] = name
        event["Resources"] = [dict(r) for r in self.resources]
        event["CloudTrailEvent"] = json.dumps(record, separators=(",", ":"))
        return event


class EventHistory:
    """The management events of one account and region, newest first. Thread-safe: the lab's server
    records from several request threads."""

    def __init__(self) -> None:
        # Oldest first, so live calls (the newest) are appended; lookups walk backwards.
        self._keys: list[tuple[float, int]] = []  # (epoch, sequence): later-recorded last on ties
        self._entries: list[_Entry] = []
        self._sequence = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, record: dict[str, Any], time: datetime, resources: list[dict[str, str]] | None = None) -> None:
        """Keep a management event (data events belong to trails only, never to Event history)."""
        if not record.get("managementEvent", True):
            return
        with self._lock:
            self._sequence += 1
            key = (time.timestamp(), self._sequence)
            index = len(self._keys) if not self._keys or key >= self._keys[-1] else bisect.bisect(self._keys, key)
            self._keys.insert(index, key)
            self._entries.insert(index, _Entry(record, time, resources or []))

    def lookup(self, attributes: list[dict[str, str]] | None = None, start: datetime | None = None,
               end: datetime | None = None, max_results: int | None = None, next_token: str | None = None,
               category: str | None = None, now: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of LookupEvents: (events, next token or None)."""
        now = now or datetime.now(UTC)
        attributes = attributes or []
        if len(attributes) > 1:
            raise LookupError_("InvalidLookupAttributesException",
                               "You cannot specify more than one lookup attribute.")
        for attribute in attributes:
            if attribute.get("AttributeKey") not in ATTRIBUTE_KEYS:
                raise LookupError_("InvalidLookupAttributesException",
                                   f"Invalid attribute key: {attribute.get('AttributeKey')}.")
        if max_results is not None and not 1 <= max_results <= MAX_RESULTS:
            raise LookupError_("InvalidMaxResultsException", "Max results must be between 1 and 50.")
        if category is not None and category != "insight":
            raise LookupError_("InvalidEventCategoryException", f"Invalid event category: {category}.")
        start = start or now - RETENTION
        end = end or now
        if start > end:
            raise LookupError_("InvalidTimeRangeException", "Start time must not be later than end time.")
        if category == "insight":
            return [], None
        start = max(start, now - RETENTION)
        after = _decode_token(next_token) if next_token else None
        limit = max_results or MAX_RESULTS
        with self._lock:
            keys, entries = list(self._keys), list(self._entries)
        # Newest first: start at the last event not after `end` or, with a token, before the last one returned.
        index = bisect.bisect_right(keys, (end.timestamp(), float("inf"))) - 1
        if after is not None:
            index = min(index, bisect.bisect_left(keys, after) - 1)
        page: list[tuple[tuple[float, int], _Entry]] = []
        wanted = attributes[0] if attributes else None
        while index >= 0 and len(page) <= limit:
            entry = entries[index]
            if entry.time < start:
                break
            if not wanted or wanted.get("AttributeValue") in entry.attribute(wanted["AttributeKey"]):
                page.append((keys[index], entry))
            index -= 1
        token = _encode_token(page[limit - 1][0]) if len(page) > limit else None
        return [entry.as_event() for _key, entry in page[:limit]], token


def _encode_token(sort_key: tuple[float, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(sort_key)).encode()).decode()


def _decode_token(token: str) -> tuple[float, int]:
    try:
        epoch, sequence = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(epoch), int(sequence)
    except Exception as error:
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken.") from error
