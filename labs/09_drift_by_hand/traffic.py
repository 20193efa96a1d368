"""Lab 09's data: the churn model's baseline dataset, three hours of captured endpoint traffic in
SageMaker's data-capture format, the statistics test cases and the incidents to name.

Everything is drawn from the grader's seeded ``random.Random``, so names and values change every
run and ``--mlalab-seed`` reproduces them. The traffic is redrawn until it keeps the properties the
lab's wrong solutions rely on (see ``acceptable``): no tied numerical values, every category on both
sides, and distances clear of the thresholds.

Capture format ("Capture data", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html,
and the reference file captured-data.jsonl): one JSON record per line,
``{"captureData": {"endpointInput": {...}, "endpointOutput": {...}}, "eventMetadata": {...},
"eventVersion": "0"}``, in objects keyed ``{prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/MM-SS-mmm-uuid.jsonl``.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from checks import drift
from fixtures.memo import by_rng_state, deep_copy

HEADER = ("tenure_months", "monthly_charges", "data_usage_gb", "plan", "channel")
PLANS, PLAN_WEIGHTS = ("basic", "standard", "premium"), (0.5, 0.35, 0.15)
CHANNELS = ("web", "app", "store", "partner")
CHANNEL_BASELINE, CHANNEL_NOW = (0.4, 0.3, 0.2, 0.1), (0.15, 0.55, 0.15, 0.15)  # the app campaign
BASELINE_ROWS = 1200
HOURS, FILES_PER_HOUR = 3, 2
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Traffic:
    baseline_csv: str
    capture_files: dict[str, str]  # S3 key -> JSON Lines
    expected: drift.ExpectedReport


def _unique(rng: random.Random, draw, taken: set[float]) -> float:
    """A value rounded to 4 decimals that no other row of either sample has (no ties, see acceptable)."""
    while True:
        value = round(draw(rng), 4)
        if value not in taken:
            taken.add(value)
            return value


def _rows(rng: random.Random, count: int, now: bool, taken: dict[str, set[float]]) -> list[list[str]]:
    rows = []
    for _ in range(count):
        tenure = _unique(rng, lambda r: r.uniform(1, 72), taken["tenure_months"])  # stable
        # A price rise: everyone pays about 30 % more (strong drift).
        charges = _unique(rng, lambda r: max(5.0, r.gauss(65 * (1.3 if now else 1.0), 18)), taken["monthly_charges"])
        # Usage creeps up a little (moderate drift).
        usage = _unique(rng, lambda r: r.lognormvariate(math.log(12 * (1.25 if now else 1.0)), 0.6),
                        taken["data_usage_gb"])
        plan = rng.choices(PLANS, PLAN_WEIGHTS)[0]  # stable
        channel = rng.choices(CHANNELS, CHANNEL_NOW if now else CHANNEL_BASELINE)[0]
        rows.append([f"{tenure:.4f}", f"{charges:.4f}", f"{usage:.4f}", plan, channel])
    return rows


def acceptable(expected: drift.ExpectedReport) -> bool:
    """The drift each feature was drawn to show, with margins: stable features well under the 0.1
    threshold, the moderate one between 0.1 and 0.2 (so a 0.2 threshold misses it), the strong ones far
    above. The margins exceed what dropping one record per capture file can change (under 0.01)."""
    d = {name: values.get("ks", values.get("linf")) for name, values in expected.features.items()}
    return (d["tenure_months"] < 0.07 and d["plan"] < 0.07 and 0.12 <= d["data_usage_gb"] <= 0.18
            and d["monthly_charges"] >= 0.25 and d["channel"] >= 0.25)


def _record(rng: random.Random, row: list[str], at: datetime) -> str:
    charges, channel = float(row[1]), row[4]
    score = 1 / (1 + math.exp(-(-3 + 0.03 * charges - 0.02 * float(row[0]) + (0.5 if channel == "store" else 0))))
    return json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": ",".join(row),
                              "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                               "data": f"{score:.4f}", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                          "inferenceTime": at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "eventVersion": "0",
    }, separators=(",", ":"))


def _capture(rng: random.Random, prefix: str, rows: list[list[str]]) -> dict[str, str]:
    """The rows spread over HOURS x FILES_PER_HOUR objects at data capture's key layout."""
    files: dict[str, str] = {}
    chunks = HOURS * FILES_PER_HOUR
    size = math.ceil(len(rows) / chunks)
    for index in range(chunks):
        chunk = rows[index * size:(index + 1) * size]
        hour = START + timedelta(hours=index // FILES_PER_HOUR)
        opened = hour + timedelta(minutes=rng.randrange(0, 30) + 30 * (index % FILES_PER_HOUR),
                                  seconds=rng.randrange(60), milliseconds=rng.randrange(1000))
        key = (f"{prefix}{opened:%Y/%m/%d/%H}/{opened:%M-%S}-{opened.microsecond // 1000:03d}-"
               f"{uuid.UUID(int=rng.getrandbits(128), version=4)}.jsonl")
        lines = [_record(rng, row, opened + timedelta(seconds=i)) for i, row in enumerate(chunk)]
        files[key] = "\n".join(lines) + "\n"
    return files


def _copied(drawn: Traffic) -> Traffic:
    """A copy of the memo's Traffic: its dicts are the consumer's own (the strings are immutable)."""
    return Traffic(drawn.baseline_csv, dict(drawn.capture_files), deep_copy(drawn.expected))


@by_rng_state(copy=_copied)  # pure of (rng, prefix)
def traffic(rng: random.Random, prefix: str) -> Traffic:
    """The baseline and the captured traffic (redrawn until ``acceptable``; a few draws at most).

    Memoized (``fixtures.memo``): a warm grader grading a batch with one seed draws it once."""
    for _ in range(100):
        taken: dict[str, set[float]] = {name: set() for name in HEADER[:3]}
        baseline = _rows(rng, BASELINE_ROWS, False, taken)
        current = _rows(rng, rng.randrange(850, 950), True, taken)
        baseline_csv = "\n".join([",".join(HEADER), *(",".join(r) for r in baseline)]) + "\n"
        files = _capture(rng, prefix, current)
        expected = drift.expected_report(baseline_csv, files.values())
        if acceptable(expected) and set(expected.kinds.values()) == {"numerical", "categorical"} \
                and all(set(_column(baseline, i)) == set(_column(current, i)) for i in (3, 4)):
            return Traffic(baseline_csv, files, expected)
    raise RuntimeError("lab 09: no acceptable traffic in 100 draws; the generator's parameters are off")


def _column(rows: list[list[str]], index: int) -> list[str]:
    return [r[index] for r in rows]


def challenger_capture(rng: random.Random, prefix: str) -> dict[str, str]:
    """A few records of the challenger variant, under its own prefix (not the one the learner is given)."""
    taken: dict[str, set[float]] = {name: set() for name in HEADER[:3]}
    rows = _rows(rng, 20, True, taken)
    at = START + timedelta(minutes=12)
    key = f"{prefix}{at:%Y/%m/%d/%H}/12-00-000-{uuid.UUID(int=rng.getrandbits(128), version=4)}.jsonl"
    return {key: "\n".join(_record(rng, row, at) for row in rows) + "\n"}


# --- the statistics test cases ---------------------------------------------------------------------


def _floats(rng: random.Random, count: int, low: float, high: float) -> list[float]:
    return [round(rng.uniform(low, high), 3) for _ in range(count)]


def _counts(rng: random.Random, keys: list[str], low: int = 1, high: int = 40) -> dict[str, int]:
    return {k: rng.randint(low, high) for k in keys}


def cases(rng: random.Random) -> list[drift.Case]:
    """The inputs each statistic is graded on: ordinary ones and the edge cases the README names."""
    out: list[drift.Case] = []

    def add(function: str, why: str, **args) -> None:
        out.append(drift.Case(f"{function}-{len(out) + 1:02d}-{rng.randrange(16**4):04x}", function, args, why))

    ints = lambda n, top: [float(rng.randint(0, top)) for _ in range(n)]  # noqa: E731 - ties on purpose
    same = _floats(rng, 8, 0, 10)
    add("ks_statistic", "unequal sample sizes, no ties", baseline=_floats(rng, 9, 0, 10),
        current=_floats(rng, 14, 2, 12))
    add("ks_statistic", "ties within and across the samples", baseline=ints(11, 4), current=ints(7, 4))
    add("ks_statistic", "ties within the baseline", baseline=sorted(ints(6, 2)) + [1.0, 1.0], current=ints(5, 3))
    add("ks_statistic", "the same values in another order", baseline=same, current=rng.sample(same, len(same)))
    add("ks_statistic", "samples that do not overlap", baseline=_floats(rng, 5, 0, 1), current=_floats(rng, 3, 5, 6))
    v = float(rng.randint(1, 9))
    add("ks_statistic", "every value tied", baseline=[v] * rng.randint(2, 5), current=[v] * rng.randint(1, 4))

    cats = ["basic", "standard", "premium", "enterprise"]
    for function in ("linf_distance", "js_divergence", "chi_squared"):
        add(function, "unequal totals", baseline_counts=_counts(rng, cats[:3]),
            current_counts=_counts(rng, cats[:3], 50, 200))
        base = _counts(rng, cats[:3])
        add(function, "a category only production has (new in the capture)", baseline_counts=base,
            current_counts={**_counts(rng, cats[:3]), "enterprise": rng.randint(5, 30)})
        add(function, "a category listed with 0 on both sides", baseline_counts={**base, "enterprise": 0},
            current_counts={**_counts(rng, cats[:3]), "enterprise": 0})
        add(function, "a baseline category production never sent", baseline_counts=_counts(rng, cats),
            current_counts={k: c for k, c in _counts(rng, cats).items() if k != "premium"})
        k = rng.randint(2, 5)
        add(function, "the same proportions, different totals", baseline_counts={c: n for c, n in base.items()},
            current_counts={c: n * k for c, n in base.items()})
    add("js_divergence", "empty bins on either side", baseline_counts={"a": rng.randint(1, 9), "b": 0,
                                                                        "c": rng.randint(1, 9)},
        current_counts={"a": rng.randint(1, 9), "b": rng.randint(1, 9), "c": 0})
    add("js_divergence", "supports that do not overlap", baseline_counts={"a": rng.randint(1, 9)},
        current_counts={"b": rng.randint(1, 9), "c": rng.randint(1, 9)})
    add("linf_distance", "supports that do not overlap", baseline_counts={"a": rng.randint(1, 9)},
        current_counts={"b": rng.randint(1, 9)})
    rng.shuffle(out)
    return out


# --- the incidents to name ---------------------------------------------------------------------------

FACETS = ("age_under_40", "age_40_and_over")


def _rates(rng: random.Random, jump: float = 0.0) -> dict:
    base = {f: round(rng.uniform(0.25, 0.35), 3) for f in FACETS}
    now = {f: round(v + rng.uniform(-0.01, 0.01), 3) for f, v in base.items()}
    now[FACETS[0]] = round(now[FACETS[0]] + jump, 3)
    return {"baseline": base, "current": now}


def incidents(rng: random.Random) -> list[drift.Incident]:
    """Three symptom descriptions, one per kind of drift, in a random order with random ids."""
    def distances(high: bool) -> dict[str, float]:
        d = {f: round(rng.uniform(0.01, 0.05), 3) for f in HEADER}
        if high:
            d[rng.choice(HEADER)] = round(rng.uniform(0.25, 0.45), 3)
        return d

    def small() -> float:
        return round(rng.uniform(0.01, 0.04), 3)

    accuracy = round(rng.uniform(0.86, 0.93), 3)
    found = [
        drift.Incident("", {"feature_distances": distances(True), "prediction_distance": small(),
                            "accuracy": {"baseline": accuracy, "current": round(accuracy - rng.uniform(0, 0.01), 3)},
                            "positive_rate": _rates(rng)},
                       "data", "data_quality",
                       "The inputs moved away from the baseline while the model stays as accurate: data drift "
                       "(covariate shift), which the data quality monitor catches by comparing live feature "
                       "distributions with the baseline statistics."),
        drift.Incident("", {"feature_distances": distances(False), "prediction_distance": small(),
                            "accuracy": {"baseline": accuracy, "current": round(accuracy - rng.uniform(0.08, 0.15), 3)},
                            "positive_rate": _rates(rng)},
                       "concept", "model_quality",
                       "The inputs look like the baseline but the model is wrong more often against ground truth: "
                       "the relation between inputs and target changed (concept drift). Only the model quality "
                       "monitor sees it, because it merges ground-truth labels with the captured predictions."),
        drift.Incident("", {"feature_distances": distances(False),
                            "prediction_distance": round(rng.uniform(0.2, 0.35), 3),
                            "accuracy": None, "positive_rate": _rates(rng, rng.uniform(0.15, 0.25))},
                       "prediction", "bias_drift",
                       "The model's outputs shifted (the share of positive predictions of one group jumped) with no "
                       "ground truth yet to judge accuracy: prediction drift. The bias drift monitor (SageMaker "
                       "Clarify) computes post-training bias metrics such as DPPL on live predictions, which need "
                       "no labels."),
    ]
    rng.shuffle(found)
    return [drift.Incident(f"incident-{i + 1}-{rng.randrange(16**4):04x}", x.scenario, x.drift, x.monitor, x.why)
            for i, x in enumerate(found)]
