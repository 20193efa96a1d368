"""Checks for drift statistics computed by hand (lab 09): the two-sample Kolmogorov–Smirnov statistic,
Model Monitor's L-infinity distance for categories, the Jensen–Shannon divergence and Deequ's
chi-squared statistic, a per-feature drift report over an endpoint's captured data, and naming the
kind of drift and the monitor that catches it.

The reference values here are computed independently of any learner code and of numpy: exact integer
arithmetic for the KS statistic and L-infinity (``fractions``), ``math.log2`` and ``math.fsum`` for
the rest. The definitions are the ones Model Monitor's analyzer uses (it is built on Deequ,
https://github.com/awslabs/deequ/blob/master/src/main/scala/com/amazon/deequ/analyzers/Distance.scala):

- numerical features: L-infinity between the two empirical CDFs, which is the two-sample KS statistic
  ("baseline_drift_check", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html);
- categorical features: ``LInfinity`` (the largest difference of two categories' relative frequencies,
  over the union of the categories) or ``ChiSquared`` (the goodness-of-fit statistic of the current
  counts against the baseline's proportions, over the baseline's categories); default threshold 0.1.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from mlalab.checking import Verdict, fail, ok

THRESHOLD = 0.1  # Model Monitor's default comparison_threshold for baseline_drift_check
ABS_TOLERANCE = 1e-6  # KS, L-infinity and JS live in [0, 1]
REL_TOLERANCE = 1e-6  # chi-squared is unbounded: relative, with ABS_TOLERANCE as a floor
MONITORS = ("data_quality", "model_quality", "bias_drift", "feature_attribution_drift")
DRIFTS = ("data", "concept", "prediction")
CONSTRAINTS_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-constraints.html"
MONITOR_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html"

# --- the reference statistics -------------------------------------------------------------------


def ks_statistic(baseline: Sequence[float], current: Sequence[float]) -> float:
    """sup_x |F_b(x) - F_c(x)| with F(x) = #{v <= x} / n, by a merge of the two sorted samples.

    Ties: every copy of a value (in both samples) is passed before the gap is measured, because the
    empirical CDF jumps by all of them at once. The gap is kept as the integer ``i*m - j*n`` (over
    ``n*m``), so the result is exact up to the final division."""
    a, b = sorted(baseline), sorted(current)
    n, m = len(a), len(b)
    if not n or not m:
        raise ValueError("both samples need at least one value")
    i = j = widest = 0
    while i < n and j < m:
        x = min(a[i], b[j])
        while i < n and a[i] == x:
            i += 1
        while j < m and b[j] == x:
            j += 1
        widest = max(widest, abs(i * m - j * n))
    # Once one sample is used up its CDF is 1 and the other's climbs to 1: the gap only shrinks.
    return widest / (n * m)


def _proportions(counts: Mapping[str, float], keys: Iterable[str]) -> dict[str, Fraction]:
    total = sum(Fraction(counts.get(k, 0)) for k in keys)
    if total <= 0:
        raise ValueError("the counts add up to zero")
    return {k: Fraction(counts.get(k, 0)) / total for k in keys}


def linf_distance(baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]) -> float:
    """Deequ's categorical L-infinity: max over the union of categories of |p_k - q_k|, a category
    missing on one side counting 0 there."""
    keys = sorted(set(baseline_counts) | set(current_counts))
    p, q = _proportions(baseline_counts, keys), _proportions(current_counts, keys)
    return float(max(abs(p[k] - q[k]) for k in keys))


def js_divergence(baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]) -> float:
    """Jensen–Shannon divergence in bits (log base 2, so it lies in [0, 1]): with P and Q the
    normalised counts over the union of bins and M = (P + Q) / 2, JS = KL(P||M)/2 + KL(Q||M)/2, where
    a bin with P = 0 adds nothing to KL(P||M) (0 log 0 = 0). M is positive wherever P or Q is."""
    keys = sorted(set(baseline_counts) | set(current_counts))
    p, q = _proportions(baseline_counts, keys), _proportions(current_counts, keys)
    terms = []
    for k in keys:
        mid = (p[k] + q[k]) / 2
        for share in (p[k], q[k]):
            if share:
                terms.append(float(share) * math.log2(share / mid) / 2)
    return max(0.0, math.fsum(terms))


def chi_squared(baseline_counts: Mapping[str, float], current_counts: Mapping[str, float]) -> float:
    """Deequ's ChiSquared statistic (the goodness of fit of the current counts to the baseline's
    proportions), before its regrouping of small categories: over the categories with a positive
    baseline count, E_k = b_k / sum(b) * m' with m' the current count over those same categories,
    and chi2 = sum (c_k - E_k)^2 / E_k. A category the baseline never saw is left out (the
    categorical_values_check reports it), as is one with no count on either side."""
    keys = sorted(k for k, v in baseline_counts.items() if v > 0)
    base_total = math.fsum(baseline_counts[k] for k in keys)
    seen_total = math.fsum(current_counts.get(k, 0) for k in keys)
    if base_total <= 0 or seen_total <= 0:
        raise ValueError("no category has counts on both sides")
    terms = []
    for k in keys:
        expected = baseline_counts[k] / base_total * seen_total
        terms.append((current_counts.get(k, 0) - expected) ** 2 / expected)
    return math.fsum(terms)


STATISTICS = {"ks_statistic": ks_statistic, "linf_distance": linf_distance, "js_divergence": js_divergence,
              "chi_squared": chi_squared}

# What each statistic means, for the messages.
CONCEPTS = {
    "ks_statistic": ("the two-sample Kolmogorov–Smirnov statistic is the largest vertical gap between the two "
                     "empirical CDFs, F(x) = (values <= x) / n, measured after every copy of a tied value (the CDF "
                     "jumps by all of them at once); samples of different sizes are each divided by their own n. "
                     "Model Monitor's baseline_drift_check uses this L-infinity distance for numerical features."),
    "linf_distance": ("Model Monitor's L-infinity distance for a categorical feature is the largest difference of "
                      "one category's share between baseline and current data, over every category either side "
                      "has (a category only one side has counts 0 on the other), each side divided by its own "
                      "total."),
    "js_divergence": ("the Jensen-Shannon divergence is KL(P||M)/2 + KL(Q||M)/2 with M = (P+Q)/2, in bits (log "
                      "base 2, so it lies between 0 and 1); an empty bin contributes 0 (0 log 0 = 0), never NaN "
                      "or infinity, and each side is normalised by its own total."),
    "chi_squared": ("the ChiSquared statistic Model Monitor (Deequ) uses compares the current counts with counts "
                    "expected from the baseline's proportions: E_k = baseline share x (current count over the "
                    "baseline's categories); categories the baseline never saw, or with 0 on both sides, are left "
                    "out (a new category is the categorical_values_check's business)."),
}

# --- the drift report's reference, from the data the grader put in S3 -----------------------------


def capture_rows(text: str) -> list[list[str]]:
    """The CSV input rows of data-capture JSON Lines (one record per line, AWS's capture format:
    captureData.endpointInput with encoding CSV or BASE64)."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        endpoint_input = json.loads(line)["captureData"]["endpointInput"]
        data = endpoint_input["data"]
        if endpoint_input.get("encoding") == "BASE64":
            data = base64.b64decode(data).decode("utf-8")
        rows.extend(r for r in csv.reader(io.StringIO(data)) if r)
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ExpectedReport:
    """The distances the learner's report must hold, by feature, and the features past the threshold."""

    features: dict[str, dict[str, float]]
    kinds: dict[str, str]  # feature -> "numerical" | "categorical"
    drifted: frozenset[str] = field(default_factory=frozenset)


def expected_report(baseline_csv: str, capture_texts: Iterable[str], threshold: float = THRESHOLD) -> ExpectedReport:
    """What the lab's README asks for: a feature whose every baseline value is a number is numerical
    (KS statistic); any other is categorical (L-infinity, JS divergence and chi-squared over the
    category counts). Drifted: the Model Monitor distance (KS, or L-infinity) above the threshold."""
    reader = csv.reader(io.StringIO(baseline_csv))
    header = next(reader)
    baseline = [r for r in reader if r]
    current = [row for text in capture_texts for row in capture_rows(text)]
    features, kinds, drifted = {}, {}, set()
    for index, name in enumerate(header):
        base_values, cur_values = [r[index] for r in baseline], [r[index] for r in current]
        if all(_is_number(v) for v in base_values):
            kinds[name] = "numerical"
            distance = ks_statistic([float(v) for v in base_values], [float(v) for v in cur_values])
            features[name] = {"ks": distance}
        else:
            kinds[name] = "categorical"
            b_counts, c_counts = _counts(base_values), _counts(cur_values)
            distance = linf_distance(b_counts, c_counts)
            features[name] = {"linf": distance, "js": js_divergence(b_counts, c_counts),
                              "chi_squared": chi_squared(b_counts, c_counts)}
        if distance > threshold:
            drifted.add(name)
    return ExpectedReport(features, kinds, frozenset(drifted))


def _counts(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


# --- reading what the learner wrote -----------------------------------------------------------------


def _number(value: object) -> float | None:
    """A JSON number as float (bool is not a number here); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _close(found: float, expected: float, relative: bool) -> bool:
    if math.isnan(found) or math.isinf(found):
        return False
    allowed = max(ABS_TOLERANCE, REL_TOLERANCE * abs(expected)) if relative else ABS_TOLERANCE
    return abs(found - expected) <= allowed


def _shown(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _args_shown(args: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={_shown(v)}" for k, v in args.items())


@dataclass(frozen=True)
class Case:
    """One input the learner's function is graded on: ``args`` are its keyword arguments."""

    id: str
    function: str
    args: dict
    why: str  # what this case exercises (ties, an empty bin, unequal sizes...)


def answers_of(document: object, where: str) -> tuple[dict, Verdict]:
    """The ``answers`` object of the answers file ({"answers": {case id: value}})."""
    if not isinstance(document, dict) or not isinstance(document.get("answers"), dict):
        return {}, fail(f"{where} must be a JSON object {{\"answers\": {{case id: value}}}}, found "
                        f"{_shown(document)}. answer_cases (given in the starter) writes it; keep its output shape.")
    return document["answers"], ok()


def statistic_answers(answers: Mapping[str, object], cases: Sequence[Case], function: str, where: str) -> Verdict:
    """Every case of ``function`` answered with the reference value, within the stated tolerance."""
    relative = function == "chi_squared"
    tolerance = (f"relative {REL_TOLERANCE:g}" if relative else f"{ABS_TOLERANCE:g}")
    for case in (c for c in cases if c.function == function):
        expected = STATISTICS[function](**case.args)
        found = answers.get(case.id)
        call = f"{function}({_args_shown(case.args)})"
        if case.id not in answers:
            return fail(f"{where} has no answer for case {case.id!r} ({case.why}): {call}. "
                        f"Expected {expected!r}.")
        if found is None:
            return fail(f"{call} returned None ({case.why}): is a return statement missing? Expected {expected!r}.")
        if isinstance(found, dict) and "error" in found:
            return fail(f"{call} raised {found['error']} ({case.why}); expected {expected!r}. "
                        f"{CONCEPTS[function]}")
        if isinstance(found, dict) and "returned" in found:
            return fail(f"{call} returned {found['returned']} ({case.why}); expected a number, {expected!r}.")
        number = _number(found)
        if number is None:
            return fail(f"the answer to {call} is {_shown(found)} ({case.why}); expected a number, {expected!r}.")
        if not _close(number, expected, relative):
            return fail(f"{call} = {number!r} ({case.why}); expected {expected!r} (tolerance {tolerance}). "
                        f"{CONCEPTS[function]}")
    return ok()


def report_distances(report: object, expected: ExpectedReport, where: str) -> Verdict:
    """The report's ``features`` hold, for every feature of the baseline, the distances the README
    names for its kind, within tolerance."""
    if not isinstance(report, dict) or not isinstance(report.get("features"), dict):
        return fail(f"{where} must be a JSON object {{\"features\": {{feature: {{distance: value}}}}, "
                    f"\"drifted\": [...]}}; found {_shown(report)}.")
    features = report["features"]
    missing = sorted(set(expected.features) - set(features))
    if missing:
        return fail(f"{where} has no distances for {missing}; expected one entry per column of the baseline "
                    f"CSV's header ({sorted(expected.features)}).")
    for name, wanted in expected.features.items():
        entry = features[name]
        if not isinstance(entry, dict):
            return fail(f"{where}: features.{name} is {_shown(entry)}; expected an object such as "
                        f"{_shown({k: round(v, 4) for k, v in wanted.items()})}.")
        for metric, value in wanted.items():
            found = _number(entry.get(metric))
            if found is None:
                kind = expected.kinds[name]
                values = "a number" if kind == "numerical" else "not always a number"
                return fail(f"{where}: features.{name}.{metric} is {_shown(entry.get(metric))}; expected a number "
                            f"({name} is {kind}: its baseline values are {values}, so its entry holds "
                            f"{sorted(wanted)}).")
            if not _close(found, value, metric == "chi_squared"):
                return fail(f"{where}: features.{name}.{metric} = {found!r}; expected {value!r} from the baseline "
                            f"CSV and every captured record under the capture prefix (all hours, all files; each "
                            f"line of a .jsonl file is one record). Model Monitor compares every captured "
                            f"record of the period with the baseline: {CONSTRAINTS_DOC}")
    return ok()


def drifted_features(report: object, expected: ExpectedReport, where: str) -> Verdict:
    """The report's ``drifted`` list is exactly the features past the threshold."""
    listed = report.get("drifted") if isinstance(report, dict) else None
    if not isinstance(listed, list) or not all(isinstance(f, str) for f in listed):
        return fail(f"{where}: \"drifted\" must be a list of feature names, found {_shown(listed)}.")
    if set(listed) != expected.drifted:
        distances = {n: round(d.get("ks", d.get("linf", 0.0)), 4) for n, d in expected.features.items()}
        return fail(f"{where}: drifted = {sorted(listed)}; expected {sorted(expected.drifted)}. A feature drifts "
                    f"when its Model Monitor distance (KS for a numerical feature, L-infinity for a categorical "
                    f"one) exceeds the baseline_drift_check's default comparison_threshold, {THRESHOLD} (the "
                    f"violation reads 'distance: d exceeds threshold: t'). The distances are {distances}.")
    return ok()


@dataclass(frozen=True)
class Incident:
    """A symptom description the learner's classify() names: the kind of drift and the monitor."""

    id: str
    scenario: dict
    drift: str
    monitor: str
    why: str  # the exam concept, for the message


def drift_named(answers: Mapping[str, object], incidents: Sequence[Incident], where: str) -> Verdict:
    """classify(scenario) named each incident's drift and monitor."""
    for incident in incidents:
        found = answers.get(incident.id)
        expected = {"drift": incident.drift, "monitor": incident.monitor}
        call = f"classify(scenario={_shown(incident.scenario)})"
        if incident.id not in answers:
            return fail(f"{where} has no answer for incident {incident.id!r}: {call}. Expected {expected}.")
        if found is None:
            return fail(f"{call} returned None: is a return statement missing? Expected {expected}.")
        if isinstance(found, dict) and "error" in found:
            return fail(f"{call} raised {found['error']}; expected {expected}.")
        if isinstance(found, dict) and "returned" in found:
            return fail(f"{call} returned {found['returned']}; expected a dict such as {expected}.")
        if not isinstance(found, dict) or found.get("drift") not in DRIFTS or found.get("monitor") not in MONITORS:
            return fail(f"{call} returned {_shown(found)}; expected {{\"drift\": one of {list(DRIFTS)}, "
                        f"\"monitor\": one of {list(MONITORS)}}}.")
        if (found["drift"], found["monitor"]) != (incident.drift, incident.monitor):
            return fail(f"incident {incident.id!r}: {call} says {found['drift']} drift caught by {found['monitor']}; "
                        f"expected {incident.drift} drift, caught by {incident.monitor}. {incident.why} "
                        f"({MONITOR_DOC})")
    return ok()
