"""Conformance suite for the EventBridge event-pattern language (mlalab.engines.events.patterns).

Each case names the EventBridge User Guide page its example comes from:
  EP  = "Amazon EventBridge event patterns" (eb-event-patterns)
  CF  = "Content filtering in Amazon EventBridge event patterns" (eb-event-patterns-content-based-filtering)
  AR  = "Arrays in Amazon EventBridge event patterns" (eb-event-patterns-arrays)
  NV  = "Matching null values and empty strings in Amazon EventBridge event patterns" (eb-event-patterns-null-values)
  ER  = aws/event-ruler JsonRuleCompiler / CIDR / WildcardParser (the library EventBridge matches with): the
        reasons of InvalidEventPatternException.
"""

from __future__ import annotations

import pytest

from mlalab.engines.events import EventPatternError, matches, parse_pattern, validate_pattern

EC2 = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.123",
        "FileName": "Dir/TXT/file.txt",
        "eventName": "StartInstances",
        "flag": True,
        "nothing": None,
        "empty": "",
        "tags": ["prod", "ml"],
        "nested": {"c1": 100},
    },
}


def ev(**detail) -> dict:
    return EC2 | {"detail": EC2["detail"] | detail}


CASES = [
    # (id with source, pattern, event, expected)
    ("EP-source-match", {"source": ["aws.ec2"]}, EC2, True),
    ("EP-source-other", {"source": ["aws.s3"]}, EC2, False),
    ("EP-array-is-or", {"source": ["aws.s3", "aws.ec2"]}, EC2, True),
    (
        "EP-two-fields-and",
        {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
        EC2,
        True,
    ),
    ("EP-two-fields-one-fails", {"source": ["aws.ec2"], "detail-type": ["Other"]}, EC2, False),
    ("EP-nested-detail", {"detail": {"state": ["terminated"]}}, EC2, True),
    ("EP-nested-detail-miss", {"detail": {"state": ["running"]}}, EC2, False),
    ("EP-missing-field-no-match", {"detail": {"absent": ["x"]}}, EC2, False),
    ("EP-exact-is-case-sensitive", {"detail": {"state": ["Terminated"]}}, EC2, False),
    ("EP-number-exact", {"detail": {"c-count": [5]}}, EC2, True),
    ("EP-number-vs-string", {"detail": {"c-count": ["5"]}}, EC2, False),
    ("EP-number-exponent", {"detail": {"x-limit": [3.018e2]}}, EC2, True),
    ("EP-boolean", {"detail": {"flag": [True]}}, EC2, True),
    ("EP-boolean-not-one", {"detail": {"flag": [1]}}, EC2, False),
    ("EP-string-true-not-boolean", {"detail": {"flag": ["true"]}}, EC2, False),
    ("AR-event-array-intersects", {"detail": {"tags": ["ml"]}}, EC2, True),
    ("AR-event-array-no-intersection", {"detail": {"tags": ["dev"]}}, EC2, False),
    (
        "AR-resources-array",
        {"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]},
        EC2,
        True,
    ),
    ("NV-null-matches-null", {"detail": {"nothing": [None]}}, EC2, True),
    ("NV-null-not-missing", {"detail": {"absent": [None]}}, EC2, False),
    ("NV-empty-string", {"detail": {"empty": [""]}}, EC2, True),
    ("NV-empty-string-not-null", {"detail": {"nothing": [""]}}, EC2, False),
    ("CF-prefix", {"time": [{"prefix": "2017-12-22"}]}, EC2, True),
    ("CF-prefix-miss", {"time": [{"prefix": "2017-10-02"}]}, EC2, False),
    ("CF-prefix-number-not-string", {"detail": {"c-count": [{"prefix": "5"}]}}, EC2, False),
    ("CF-prefix-ignore-case", {"detail": {"state": [{"prefix": {"equals-ignore-case": "TERM"}}]}}, EC2, True),
    ("CF-suffix", {"detail": {"FileName": [{"suffix": ".txt"}]}}, EC2, True),
    ("CF-suffix-miss", {"detail": {"FileName": [{"suffix": ".png"}]}}, EC2, False),
    ("CF-suffix-ignore-case", {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".TXT"}}]}}, EC2, True),
    ("CF-equals-ignore-case", {"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}}, EC2, True),
    ("CF-equals-ignore-case-miss", {"detail": {"state": [{"equals-ignore-case": "RUNNING"}]}}, EC2, False),
    ("CF-anything-but-string", {"detail": {"state": [{"anything-but": "initializing"}]}}, EC2, True),
    ("CF-anything-but-string-excluded", {"detail": {"state": [{"anything-but": "terminated"}]}}, EC2, False),
    ("CF-anything-but-number", {"detail": {"c-count": [{"anything-but": 123}]}}, EC2, True),
    ("CF-anything-but-number-excluded", {"detail": {"c-count": [{"anything-but": 5}]}}, EC2, False),
    ("CF-anything-but-list", {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}, EC2, True),
    ("CF-anything-but-list-excluded", {"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}}, EC2, False),
    ("CF-anything-but-number-list", {"detail": {"c-count": [{"anything-but": [100, 200, 5]}]}}, EC2, False),
    ("CF-anything-but-missing-field", {"detail": {"absent": [{"anything-but": "x"}]}}, EC2, False),
    ("CF-anything-but-prefix", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, EC2, True),
    ("CF-anything-but-prefix-excluded", {"detail": {"state": [{"anything-but": {"prefix": "term"}}]}}, EC2, False),
    ("CF-anything-but-prefix-list", {"detail": {"state": [{"anything-but": {"prefix": ["a", "term"]}}]}}, EC2, False),
    ("CF-anything-but-suffix", {"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}, EC2, True),
    ("CF-anything-but-suffix-excluded", {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}}, EC2, False),
    (
        "CF-anything-but-ignore-case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "TERMINATED"}}]}},
        EC2,
        False,
    ),
    (
        "CF-anything-but-ignore-case-list",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING", "STOPPED"]}}]}},
        EC2,
        True,
    ),
    ("CF-anything-but-wildcard", {"detail": {"FileName": [{"anything-but": {"wildcard": "*/lib/*"}}]}}, EC2, True),
    (
        "CF-anything-but-wildcard-excluded",
        {"detail": {"FileName": [{"anything-but": {"wildcard": "Dir/*"}}]}},
        EC2,
        False,
    ),
    (
        "CF-anything-but-wildcard-list",
        {"detail": {"FileName": [{"anything-but": {"wildcard": ["*.png", "*/TXT/*"]}}]}},
        EC2,
        False,
    ),
    ("CF-numeric-range", {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, EC2, True),
    ("CF-numeric-range-upper-open", {"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}}, EC2, False),
    ("CF-numeric-less", {"detail": {"d-count": [{"numeric": ["<", 10]}]}}, EC2, True),
    ("CF-numeric-equals", {"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}, EC2, True),
    ("CF-numeric-ge", {"detail": {"c-count": [{"numeric": [">=", 5]}]}}, EC2, True),
    ("CF-numeric-gt-miss", {"detail": {"c-count": [{"numeric": [">", 5]}]}}, EC2, False),
    ("CF-numeric-on-string", {"detail": {"state": [{"numeric": [">", 0]}]}}, EC2, False),
    (
        "CF-numeric-and-all-fields",
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        EC2,
        True,
    ),
    ("CF-cidr", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, EC2, True),
    ("CF-cidr-miss", {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, EC2, False),
    ("CF-cidr-ipv6", {"detail": {"source-ip": [{"cidr": "2001:db8::/64"}]}}, ev(**{"source-ip": "2001:db8::1"}), True),
    ("CF-exists-true", {"detail": {"state": [{"exists": True}]}}, EC2, True),
    ("CF-exists-true-missing", {"detail": {"absent": [{"exists": True}]}}, EC2, False),
    ("CF-exists-false", {"detail": {"absent": [{"exists": False}]}}, EC2, True),
    ("CF-exists-false-present", {"detail": {"c-count": [{"exists": False}]}}, EC2, False),
    ("CF-exists-leaf-only", {"detail": {"nested": [{"exists": False}]}}, EC2, True),
    ("CF-exists-leaf-only-true", {"detail": {"nested": [{"exists": True}]}}, EC2, False),
    ("CF-wildcard", {"detail": {"FileName": [{"wildcard": "Dir/*.txt"}]}}, EC2, True),
    ("CF-wildcard-two-stars", {"detail": {"FileName": [{"wildcard": "Dir/*/file.*"}]}}, EC2, True),
    ("CF-wildcard-miss", {"detail": {"FileName": [{"wildcard": "Dir/*.png"}]}}, EC2, False),
    ("CF-wildcard-escaped-star", {"detail": {"FileName": [{"wildcard": "a\\*b"}]}}, ev(FileName="a*b"), True),
    ("CF-wildcard-escaped-star-literal", {"detail": {"FileName": [{"wildcard": "a\\*b"}]}}, ev(FileName="axxb"), False),
    (
        "CF-or-top-level",
        {"$or": [{"source": ["aws.s3"]}, {"detail-type": ["EC2 Instance State-change Notification"]}]},
        EC2,
        True,
    ),
    ("CF-or-none", {"$or": [{"source": ["aws.s3"]}, {"detail-type": ["Other"]}]}, EC2, False),
    (
        "CF-or-nested",
        {"detail": {"$or": [{"c-count": [{"numeric": [">", 10]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}},
        EC2,
        True,
    ),
    (
        "CF-or-with-and",
        {"source": ["aws.s3"], "$or": [{"detail": {"state": ["terminated"]}}, {"region": ["x"]}]},
        EC2,
        False,
    ),
    (
        "CF-complex-example",
        {
            "time": [{"prefix": "2017-12-22"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        EC2,
        True,
    ),
    ("CF-mixed-exact-and-prefix", {"detail": {"state": ["running", {"prefix": "term"}]}}, EC2, True),
    (
        "AR-same-element-required",
        {"detail": {"items": {"name": ["a"], "size": [2]}}},
        ev(items=[{"name": "a", "size": 1}, {"name": "b", "size": 2}]),
        False,
    ),
    (
        "AR-same-element-ok",
        {"detail": {"items": {"name": ["b"], "size": [2]}}},
        ev(items=[{"name": "a", "size": 1}, {"name": "b", "size": 2}]),
        True,
    ),
    ("AR-empty-array-is-absent", {"detail": {"list": [{"exists": False}]}}, ev(list=[]), True),
    # AR: fields in two different arrays of the event are matched independently of each other.
    (
        "AR-two-arrays-independent",
        {"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"], "detail": {"tags": ["ml"]}},
        EC2,
        True,
    ),
    # ER CIDR.ipToRangeIfPossible: an IP literal is matched as that one address, not as any other.
    ("ER-ip-literal-other-address", {"detail": {"source-ip": ["10.0.0.1"]}}, EC2, False),
    ("CF-cidr-zero-mask", {"detail": {"source-ip": [{"cidr": "0.0.0.0/0"}]}}, EC2, True),
    # ER JsonRuleCompiler.writeRules: a number outside ComparableNumber's range ("for example an AWS
    # account number") still matches its exact literal, digit for digit.
    ("ER-large-number-literal", {"detail": {"big": [12345678901234567]}}, ev(big=12345678901234567), True),
    ("ER-large-number-other", {"detail": {"big": [12345678901234567]}}, ev(big=12345678901234568), False),
    # CF numeric matching: numbers are compared by value, whatever their JSON spelling (300 is 300.0).
    ("CF-number-int-matches-float-event", {"detail": {"x": [300]}}, ev(x=300.0), True),
    ("EP-boolean-other-value", {"detail": {"flag": [False]}}, EC2, False),
    ("CF-wildcard-escaped-star-at-end", {"detail": {"FileName": [{"wildcard": "Dir\\*"}]}}, ev(FileName="Dir*"), True),
    # ER CIDR.cidr: the mask decides the range; host bits in the address are allowed.
    ("CF-cidr-host-bits-set", {"detail": {"source-ip": [{"cidr": "10.0.0.5/24"}]}}, EC2, True),
    # CF anything-but prefix/suffix/wildcard exclude strings; a number is never one of them, so it matches.
    ("CF-anything-but-prefix-number-value", {"detail": {"c-count": [{"anything-but": {"prefix": "5"}}]}}, EC2, True),
]


@pytest.mark.parametrize(("pattern", "event", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pattern_matching(pattern: dict, event: dict, expected: bool) -> None:
    assert matches(pattern, event) is expected


INVALID = [
    # (id, pattern text, AWS's reason)
    ("ER-not-object", '["source"]', "Filter is not an object"),
    ("ER-empty-object", "{}", "Empty objects are not allowed"),
    ("ER-empty-nested", '{"detail": {}}', "Empty objects are not allowed"),
    ("ER-leaf-not-array", '{"source": "aws.ec2"}', '"source" must be an object or an array'),
    ("ER-empty-array", '{"source": []}', "Empty arrays are not allowed"),
    ("ER-array-in-array", '{"source": [["a"]]}', "Match value must be String, number, true, false, or null"),
    ("ER-empty-expression", '{"source": [{}]}', "Match expression name not found"),
    ("ER-two-keys", '{"source": [{"prefix": "a", "suffix": "b"}]}', "Only one key allowed in match expression"),
    ("ER-unknown-match", '{"source": [{"regex": "a.*"}]}', "Unrecognized match type regex"),
    ("ER-prefix-not-string", '{"source": [{"prefix": 5}]}', "prefix match pattern must be a string"),
    ("ER-suffix-not-string", '{"source": [{"suffix": 5}]}', "suffix match pattern must be a string"),
    ("ER-prefix-unsupported", '{"source": [{"prefix": {"wildcard": "a"}}]}', "Unsupported prefix pattern: wildcard"),
    (
        "ER-equals-ignore-case",
        '{"source": [{"equals-ignore-case": 1}]}',
        "equals-ignore-case match pattern must be a string",
    ),
    ("ER-numeric-not-array", '{"n": [{"numeric": ">"}]}', "Value of numeric must be an array."),
    ("ER-numeric-operator", '{"n": [{"numeric": ["!=", 1]}]}', "Unrecognized numeric range operator: !="),
    ("ER-numeric-value", '{"n": [{"numeric": [">", "x"]}]}', "Value of > must be numeric"),
    ("ER-numeric-equals-value", '{"n": [{"numeric": ["=", "x"]}]}', "Value of equals must be numeric"),
    ("ER-numeric-bad-upper", '{"n": [{"numeric": [">", 1, ">", 5]}]}', "Bad numeric range operator: >"),
    ("ER-numeric-too-many", '{"n": [{"numeric": ["<", 1, "<", 5]}]}', "Too many elements in numeric expression"),
    (
        "ER-numeric-range",
        '{"n": [{"numeric": [">", 6000000000]}]}',
        "Value must be between -5000000000 and 5000000000, inclusive",
    ),
    ("ER-exists-not-bool", '{"n": [{"exists": "yes"}]}', "exists match pattern must be either true or false."),
    (
        "ER-anything-but-mixed",
        '{"n": [{"anything-but": ["a", 1]}]}',
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    (
        "ER-anything-but-bool",
        '{"n": [{"anything-but": true}]}',
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "ER-anything-but-unsupported",
        '{"n": [{"anything-but": {"numeric": [">", 1]}}]}',
        "Unsupported anything-but pattern: numeric",
    ),
    ("ER-anything-but-empty-prefix", '{"n": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed"),
    ("ER-cidr-no-slash", '{"ip": [{"cidr": "10.0.0.0"}]}', "Malformed CIDR, one '/' required"),
    ("ER-cidr-mask", '{"ip": [{"cidr": "10.0.0.0/x"}]}', "Malformed CIDR, mask bits must be an integer"),
    ("ER-wildcard-consecutive", '{"f": [{"wildcard": "a**"}]}', "Consecutive wildcard characters at pos 2"),
    ("ER-wildcard-escape", '{"f": [{"wildcard": "a\\\\b"}]}', "Invalid escape character at pos 2"),
    ("ER-or-not-array", '{"$or": {"a": ["b"]}}', "It must be an Array followed with $or."),
    ("ER-or-one-branch", '{"$or": [{"a": ["b"]}]}', "There must have at least 2 Objects in $or relationship."),
    ("ER-or-non-object", '{"$or": [{"a": ["b"]}, "c"]}', "Only JSON object is allowed in array of $or relationship."),
    ("ER-wildcard-not-string", '{"f": [{"wildcard": 5}]}', "wildcard match pattern must be a string"),
    ("ER-cidr-not-string", '{"ip": [{"cidr": 5}]}', "prefix match pattern must be a string"),
    ("ER-numeric-empty", '{"n": [{"numeric": []}]}', "Invalid member in numeric match: ]"),
    ("ER-numeric-number-first", '{"n": [{"numeric": [5, ">"]}]}', "Invalid member in numeric match: 5"),
    ("ER-numeric-equals-extra", '{"n": [{"numeric": ["=", 1, 2]}]}', "Too many elements in numeric expression"),
    ("ER-anything-but-empty-object", '{"n": [{"anything-but": {}}]}', "Anything-But expression name not found"),
    ("ER-prefix-empty-object", '{"f": [{"prefix": {}}]}', "Prefix expression name not found"),
    (
        "ER-prefix-ignore-case-not-string",
        '{"f": [{"prefix": {"equals-ignore-case": 5}}]}',
        "equals-ignore-case match pattern must be a string",
    ),
    (
        "ER-suffix-ignore-case-two-keys",
        '{"f": [{"suffix": {"equals-ignore-case": "a", "x": "b"}}]}',
        "Only one key allowed in match expression",
    ),
    ("ER-wildcard-consecutive-at-start", '{"f": [{"wildcard": "**"}]}', "Consecutive wildcard characters at pos 1"),
    ("ER-wildcard-trailing-backslash", '{"f": [{"wildcard": "a\\\\"}]}', "Invalid escape character at pos 2"),
    ("ER-wildcard-escape-after-escape", '{"f": [{"wildcard": "\\\\*\\\\x"}]}', "Invalid escape character at pos 3"),
    ("ER-numeric-range-bad-value", '{"n": [{"numeric": [">", 1, 5]}]}', "Bad value in numeric range: 5"),
    ("ER-numeric-range-no-top", '{"n": [{"numeric": [">", 1, "<"]}]}', "Value of < must be numeric"),
    (
        "ER-numeric-range-too-many",
        '{"n": [{"numeric": [">", 1, "<", 5, 6]}]}',
        "Too many terms in numeric range expression",
    ),
    (
        "ER-anything-but-two-keys",
        '{"n": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}',
        "Too many elements in numeric expression",
    ),
    (
        "ER-anything-but-prefix-number",
        '{"n": [{"anything-but": {"prefix": [5]}}]}',
        "prefix/suffix match pattern must be a string",
    ),
    (
        "ER-anything-but-wildcard-number",
        '{"n": [{"anything-but": {"wildcard": [5]}}]}',
        "wildcard match pattern must be a string",
    ),
    (
        "ER-anything-but-ignore-case-number",
        '{"n": [{"anything-but": {"equals-ignore-case": [5]}}]}',
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ),
    (
        "ER-anything-but-wildcard-consecutive",
        '{"f": [{"anything-but": {"wildcard": "a**"}}]}',
        "Consecutive wildcard characters at pos 2",
    ),
    ("ER-cidr-negative-mask", '{"ip": [{"cidr": "10.0.0.0/-1"}]}', "Malformed CIDR, mask bits must not be negative"),
    ("ER-cidr-not-an-address", '{"ip": [{"cidr": "10.0.0/24"}]}', "Nonstandard IP address: 10.0.0"),
    # ER CIDR.isIPv4OrIPv6: a scoped IPv6 literal is not an address to event-ruler.
    ("ER-cidr-scoped-ipv6", '{"ip": [{"cidr": "fe80::1%eth0/64"}]}', "Nonstandard IP address: fe80::1%eth0"),
    ("ER-cidr-ipv4-host-mask", '{"ip": [{"cidr": "10.0.0.1/32"}]}', "IPv4 mask bits must be < 32"),
    ("ER-cidr-ipv6-host-mask", '{"ip": [{"cidr": "2001:db8::1/128"}]}', "IPv6 mask bits must be < 128"),
]


@pytest.mark.parametrize(("text", "reason"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_patterns_are_refused_with_aws_reason(text: str, reason: str) -> None:
    assert validate_pattern(text) == reason
    with pytest.raises(EventPatternError) as excinfo:
        parse_pattern(text)
    assert excinfo.value.message == f"Event pattern is not valid. Reason: {reason}"


def test_invalid_json_is_refused() -> None:
    assert validate_pattern("{not json").startswith("Invalid JSON")


def test_valid_patterns_validate() -> None:
    for _id, pattern, _event, _expected in CASES:
        assert validate_pattern(pattern) is None, _id


def test_or_forks_into_branches() -> None:
    """ER JsonRuleCompiler: ("source" AND ("metricName" OR ("metricType" AND "namespace") OR "scope")) is 3 branches."""
    pattern = parse_pattern({"source": ["aws.cloudwatch"], "$or": [
        {"metricName": ["CPUUtilization"]}, {"metricType": ["MetricType"], "namespace": ["AWS/EC2"]},
        {"scope": ["Service"]}]})  # fmt: skip
    assert len(pattern.branches) == 3
    assert all(("source",) in branch for branch in pattern.branches)


def test_numbers_have_at_most_six_decimals() -> None:
    """CF numeric matching / ER ComparableNumber: six digits right of the decimal point at most."""
    assert validate_pattern('{"n": [{"numeric": [">", 1.000001]}]}') is None
    assert validate_pattern('{"n": [{"numeric": [">=", -5000000000, "<=", 5000000000]}]}') is None  # inclusive
    reason = validate_pattern('{"n": [{"numeric": [">", 1.0000001]}]}')
    assert reason is not None and reason.startswith("Only values upto 6 decimals are supported")
