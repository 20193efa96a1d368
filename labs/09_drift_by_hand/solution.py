"""Lab 09: drift by hand, and naming it.

Write the four statistics and classify() with numpy, then drift_report() with boto3 and your
statistics. answer_cases() is given: the grader calls it to run your functions on its test cases.
See README.md for the exact definitions and shapes.
"""

import csv
import io
import json
import numbers
from collections import Counter

import boto3
import numpy as np

THRESHOLD = 0.1  # Model Monitor's default comparison_threshold for baseline drift


def ks_statistic(baseline, current):
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    # BEGIN SOLUTION
    a = np.sort(np.asarray(baseline, dtype=float))
    b = np.sort(np.asarray(current, dtype=float))
    if a.size == 0 or b.size == 0:
        raise ValueError("both samples need at least one value")
    points = np.concatenate([a, b])  # the CDFs only step at observed values
    cdf_a = np.searchsorted(a, points, side="right") / a.size  # share of a <= x: every tied copy counts
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))
    # END SOLUTION


def _shares(counts, keys):
    """The counts of ``keys`` (0 where a key is missing) as proportions of their total."""
    values = np.array([counts.get(k, 0) for k in keys], dtype=float)
    return values / values.sum()


def linf_distance(baseline_counts, current_counts):
    """Model Monitor's L-infinity distance between two categorical distributions ({category: count})."""
    # BEGIN SOLUTION
    categories = sorted(set(baseline_counts) | set(current_counts))
    p, q = _shares(baseline_counts, categories), _shares(current_counts, categories)
    return float(np.max(np.abs(p - q)))
    # END SOLUTION


def js_divergence(baseline_counts, current_counts):
    """Jensen-Shannon divergence in bits (log base 2) between two histograms ({bin: count})."""
    # BEGIN SOLUTION
    bins = sorted(set(baseline_counts).union(current_counts))
    p, q = _shares(baseline_counts, bins), _shares(current_counts, bins)
    m = (p + q) / 2
    # KL(P || M) in bits, where a bin with P = 0 adds nothing (0 log 0 = 0); M > 0 wherever P > 0.
    kl = [np.sum(x[x > 0] * np.log2(x[x > 0] / m[x > 0])) for x in (p, q)]
    return float(kl[0] / 2 + kl[1] / 2)
    # END SOLUTION


def chi_squared(baseline_counts, current_counts):
    """The chi-squared statistic of the current counts against the baseline's proportions (Deequ's)."""
    # BEGIN SOLUTION
    seen_by_baseline = [k for k in sorted(baseline_counts) if baseline_counts[k] > 0]
    base = np.array([baseline_counts[k] for k in seen_by_baseline], dtype=float)
    seen = np.array([current_counts.get(k, 0) for k in seen_by_baseline], dtype=float)
    expected = base / base.sum() * seen.sum()
    return float(np.sum((seen - expected) ** 2 / expected))
    # END SOLUTION


def classify(scenario):
    """Name the drift ("data", "concept" or "prediction") and the monitor that catches it."""
    # BEGIN SOLUTION
    if max(scenario["feature_distances"].values()) > THRESHOLD:
        return {"drift": "data", "monitor": "data_quality"}  # inputs moved away from the baseline
    accuracy = scenario.get("accuracy")
    if accuracy and accuracy["baseline"] - accuracy["current"] > 0.05:
        return {"drift": "concept", "monitor": "model_quality"}  # same inputs, wrong more often
    return {"drift": "prediction", "monitor": "bias_drift"}  # outputs moved, no labels to judge yet
    # END SOLUTION


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def drift_report(bucket, baseline_key, capture_prefix, report_key):
    """Compare every captured record under capture_prefix with the baseline CSV; write the distances
    and the drifted features as JSON to s3://bucket/report_key."""
    # BEGIN SOLUTION
    s3 = boto3.client("s3")
    baseline_text = s3.get_object(Bucket=bucket, Key=baseline_key)["Body"].read().decode("utf-8")
    header, *baseline = [row for row in csv.reader(io.StringIO(baseline_text)) if row]
    current = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=capture_prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode("utf-8")
            for line in body.splitlines():
                if line.strip():
                    record = json.loads(line)["captureData"]["endpointInput"]
                    current.extend(csv.reader(io.StringIO(record["data"])))
    features, drifted = {}, []
    for index, name in enumerate(header):
        base_column = [row[index] for row in baseline]
        current_column = [row[index] for row in current]
        if all(_is_number(v) for v in base_column):
            distance = ks_statistic([float(v) for v in base_column], [float(v) for v in current_column])
            features[name] = {"ks": distance}
        else:
            b, c = Counter(base_column), Counter(current_column)
            distance = linf_distance(b, c)
            features[name] = {"linf": distance, "js": js_divergence(b, c), "chi_squared": chi_squared(b, c)}
        if distance > THRESHOLD:
            drifted.append(name)
    report = {"features": features, "drifted": drifted}
    s3.put_object(Bucket=bucket, Key=report_key, Body=json.dumps(report, indent=2).encode("utf-8"),
                  ContentType="application/json")
    # END SOLUTION


# --- given: do not change -------------------------------------------------------------------------


def _as_json(value):
    """What a function returned, as the grader can read it (a number, or JSON as it is)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return {"returned": f"{type(value).__name__} {value!r:.200}"}
    return value


def answer_cases(bucket, cases_key, answers_key):
    """Run your functions on the grader's cases and write what each returned (or raised)."""
    s3 = boto3.client("s3")
    cases = json.loads(s3.get_object(Bucket=bucket, Key=cases_key)["Body"].read())["cases"]
    functions = {"ks_statistic": ks_statistic, "linf_distance": linf_distance, "js_divergence": js_divergence,
                 "chi_squared": chi_squared, "classify": classify}
    answers, unwritten = {}, 0
    for case in cases:
        try:
            answers[case["id"]] = _as_json(functions[case["function"]](**case["args"]))
        except NotImplementedError:
            unwritten += 1
            answers[case["id"]] = {"error": "NotImplementedError (not written yet)"}
        except Exception as exc:  # noqa: BLE001 - reported to you through the check's message
            answers[case["id"]] = {"error": f"{type(exc).__name__}: {exc}"}
    s3.put_object(Bucket=bucket, Key=answers_key, Body=json.dumps({"answers": answers}).encode("utf-8"))
    if unwritten == len(cases):
        raise NotImplementedError("none of the functions is written yet")
