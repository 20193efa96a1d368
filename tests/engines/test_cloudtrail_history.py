"""Event history with LookupEvents semantics (LookupEvents API reference): one lookup attribute at
most, exact matches, time window, newest first, MaxResults 1..50, NextToken paging, 90 days, no data
events, and the CloudTrailEvent JSON string."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from mlalab.engines import cloudtrail as ct
from mlalab.engines.cloudtrail import identity

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _record(name: str, minutes_ago: float, who: dict | None = None, endpoint: str = "e", **kw) -> tuple[dict, datetime]:
    when = NOW - timedelta(minutes=minutes_ago)
    record = ct.build_record(identity=who or identity.iam_user("1", "ana", "AKIAANA"), time=when,
                             source="sagemaker.amazonaws.com", name=name, region="us-east-1", source_ip="203.0.113.9",
                             user_agent="cli", request_parameters={"endpointName": endpoint}, response_elements=None,
                             read_only=ct.is_read_only("sagemaker", name), account="1", **kw)
    return record, when


@pytest.fixture
def history() -> ct.EventHistory:
    store = ct.EventHistory()
    bob = identity.assumed_role("1", "ops", "bob", "ASIABOB", NOW - timedelta(days=1))
    for name, ago, who, endpoint in [("CreateEndpoint", 300, None, "fraud"), ("DescribeEndpoint", 200, bob, "fraud"),
                                     ("DeleteEndpoint", 100, bob, "fraud"), ("DeleteEndpoint", 50, None, "churn")]:
        record, when = _record(name, ago, who, endpoint)
        store.add(record, when, [{"ResourceType": "AWS::SageMaker::Endpoint", "ResourceName": endpoint}])
    old, when = _record("DeleteModel", 60 * 24 * 91)
    store.add(old, when)
    data, when = _record("GetObject", 10, category="Data")
    store.add(data, when)
    return store


def names(events):
    return [e["EventName"] for e in events]


def test_newest_first_without_data_events_or_expired_ones(history):
    events, token = history.lookup(now=NOW)
    assert names(events) == ["DeleteEndpoint", "DeleteEndpoint", "DescribeEndpoint", "CreateEndpoint"]
    assert token is None


def test_an_audit_question_who_deleted_fraud(history):
    events, _ = history.lookup([{"AttributeKey": "ResourceName", "AttributeValue": "fraud"}], now=NOW)
    deletes = [e for e in events if e["EventName"] == "DeleteEndpoint"]
    assert len(deletes) == 1 and deletes[0]["Username"] == "bob" and deletes[0]["AccessKeyId"] == "ASIABOB"
    record = json.loads(deletes[0]["CloudTrailEvent"])
    assert record["sourceIPAddress"] == "203.0.113.9" and record["eventTime"] == "2026-05-01T10:20:00Z"
    assert deletes[0]["EventTime"] == NOW - timedelta(minutes=100)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("EventName", "DeleteEndpoint", 2), ("ReadOnly", "true", 1), ("ReadOnly", "false", 3), ("Username", "ana", 2),
    ("Username", "bob", 2), ("AccessKeyId", "ASIABOB", 2), ("EventSource", "sagemaker.amazonaws.com", 4),
    ("ResourceType", "AWS::SageMaker::Endpoint", 4), ("EventName", "deleteendpoint", 0)])
def test_lookup_attributes_match_exactly(history, key, value, expected):
    events, _ = history.lookup([{"AttributeKey": key, "AttributeValue": value}], now=NOW)
    assert len(events) == expected


def test_time_window_is_inclusive(history):
    events, _ = history.lookup(start=NOW - timedelta(minutes=200), end=NOW - timedelta(minutes=100), now=NOW)
    assert names(events) == ["DeleteEndpoint", "DescribeEndpoint"]


def test_paging_returns_every_event_once(history):
    seen, token = [], None
    for _ in range(10):
        events, token = history.lookup(max_results=1, next_token=token, now=NOW)
        seen += [e["EventId"] for e in events]
        if token is None:
            break
    assert len(seen) == 4 == len(set(seen))


def test_ties_in_time_page_correctly():
    store = ct.EventHistory()
    for i in range(5):
        record, _ = _record(f"CreateModel{i}", 0)
        store.add(record, NOW)
    first, token = store.lookup(max_results=2, now=NOW)
    second, token = store.lookup(max_results=2, next_token=token, now=NOW)
    third, token = store.lookup(max_results=2, next_token=token, now=NOW)
    assert names(first + second + third) == [f"CreateModel{i}" for i in (4, 3, 2, 1, 0)] and token is None


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"attributes": [{"AttributeKey": "EventName", "AttributeValue": "a"},
                     {"AttributeKey": "Username", "AttributeValue": "b"}]}, "InvalidLookupAttributesException"),
    ({"attributes": [{"AttributeKey": "Bogus", "AttributeValue": "a"}]}, "InvalidLookupAttributesException"),
    ({"max_results": 51}, "InvalidMaxResultsException"),
    ({"max_results": 0}, "InvalidMaxResultsException"),
    ({"start": NOW, "end": NOW - timedelta(hours=1)}, "InvalidTimeRangeException"),
    ({"next_token": "not-a-token"}, "InvalidNextTokenException"),
    ({"category": "management"}, "InvalidEventCategoryException"),
])
def test_refusals(history, kwargs, code):
    with pytest.raises(ct.LookupError_) as refused:
        history.lookup(now=NOW, **kwargs)
    assert refused.value.code == code


def test_insight_category_is_empty(history):
    assert history.lookup(category="insight", now=NOW) == ([], None)


def test_event_keys_match_the_api_reference(history):
    event = history.lookup(max_results=1, now=NOW)[0][0]
    assert list(event) == ["EventId", "EventName", "ReadOnly", "AccessKeyId", "EventTime", "EventSource",
                           "Username", "Resources", "CloudTrailEvent"]
    assert event["ReadOnly"] in ("true", "false") and isinstance(event["CloudTrailEvent"], str)


def test_now_is_the_default_end_of_the_window():
    """``EndTime`` default: "the current time" (LookupEvents API reference); a call just made is found."""
    store = ct.EventHistory()
    record, _ = _record("CreateEndpoint", 0)
    store.add(record, datetime.now(UTC) - timedelta(seconds=1))
    assert names(store.lookup()[0]) == ["CreateEndpoint"]


def test_a_start_before_the_retention_still_finds_nothing_older_than_90_days(history):
    """"You can look up events that occurred in a Region within the last 90 days": an earlier StartTime
    does not bring expired events back."""
    events, _ = history.lookup(start=NOW - timedelta(days=365), now=NOW)
    assert "DeleteModel" not in names(events) and len(events) == 4


def test_a_page_that_holds_the_last_event_has_no_next_token(history):
    """``NextToken``: "If the token does not appear, there are no more results to return"; a page that
    ends exactly on the last event gives none, and a page cut short gives one."""
    events, token = history.lookup(max_results=4, now=NOW)
    assert len(events) == 4 and token is None
    events, token = history.lookup(max_results=3, now=NOW)
    assert len(events) == 3 and token is not None


def test_fifty_results_are_allowed(history):
    """``MaxResults``: "Valid Range: Minimum value of 1. Maximum value of 50"."""
    events, token = history.lookup(max_results=50, now=NOW)
    assert len(events) == 4 and token is None


def test_start_equal_to_end_is_a_valid_window(history):
    """``InvalidTimeRangeException`` is for "the start time occurs after the end time"; equal bounds are a
    one-instant window, inclusive."""
    at = NOW - timedelta(minutes=100)
    events, _ = history.lookup(start=at, end=at, now=NOW)
    assert names(events) == ["DeleteEndpoint"]


def test_a_record_without_the_management_event_flag_is_a_management_event():
    """"CloudTrail record contents": ``managementEvent`` "is shown in an event record if eventVersion is
    1.06 or higher"; an older record without it is a management event and stays in Event history."""
    store = ct.EventHistory()
    record, when = _record("CreateEndpoint", 10)
    record = {key: value for key, value in record.items() if key != "managementEvent"} | {"eventVersion": "1.05"}
    store.add(record, when)
    assert names(store.lookup(now=NOW)[0]) == ["CreateEndpoint"]


def test_root_calls_are_found_by_the_user_name_root():
    store = ct.EventHistory()
    record, when = _record("DeleteEndpoint", 5, who=identity.root("1", "AKIAROOT"))
    store.add(record, when)
    events, _ = store.lookup([{"AttributeKey": "Username", "AttributeValue": "root"}], now=NOW)
    assert names(events) == ["DeleteEndpoint"] and events[0]["Username"] == "root"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"max_results": 51}, "50"),
    ({"attributes": [{"AttributeKey": "Bogus", "AttributeValue": "a"}]}, "Bogus"),
    ({"start": NOW, "end": NOW - timedelta(hours=1)}, "time"),
])
def test_refusals_say_what_was_wrong(history, kwargs, words):
    """The error's message is what the learner's SDK shows (``ClientError`` text): it names the problem."""
    with pytest.raises(ct.LookupError_) as refused:
        history.lookup(now=NOW, **kwargs)
    assert words in refused.value.message and str(refused.value) == refused.value.message


def test_an_event_is_found_by_its_event_id(history):
    """``EventId`` lookup attribute: the one event with that ID."""
    wanted = history.lookup(max_results=2, now=NOW)[0][1]
    events, _ = history.lookup([{"AttributeKey": "EventId", "AttributeValue": wanted["EventId"]}], now=NOW)
    assert [e["EventId"] for e in events] == [wanted["EventId"]]


def test_history_keeps_management_events_only():
    """"Event history" (user guide): management events; a data event is never kept in it."""
    store = ct.EventHistory()
    for name, category in (("CreateEndpoint", "Management"), ("GetObject", "Data")):
        record, when = _record(name, 1, category=category)
        store.add(record, when)
    assert len(store) == 1
