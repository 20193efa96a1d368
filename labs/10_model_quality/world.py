"""Lab 10's world: the churn endpoint's traffic, hour by hour, and the labels that arrive for it.

Customers come from :func:`fixtures.churn.rows` (the training distribution every hour: no data drift) and
their outcomes from :func:`fixtures.churn.outcomes`; from the first drifted hour on, ``concept_shift=True``:
a competitor's offer changes who leaves, the same inputs now mean other outcomes (concept drift), which only
ground truth shows.

The team's constraints are the suggestion of a baseline (:func:`mlalab.engines.modelmonitor.model_quality.suggest`
on a large labelled validation set) that the team reviewed: five metrics kept, each loosened by a margin
so that an ordinary hour's sampling noise is no violation. An hour is drawn again (same seeded source)
until it tells its story clearly: a confirmed hour has no violation and f1 at least ``MARGIN`` above the f1
threshold, a drifted hour violates f1 by at least ``MARGIN``. The checks then grade behaviour, never luck.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fixtures import churn
from fixtures.memo import by_rng_state, frozen, immutable
from mlalab.engines.modelmonitor import model_quality as mq

THRESHOLD = 0.3  # the churn probability from which the retention team calls a customer
CONFIRMED_HOURS = 3
DRIFTED_HOURS = 3
RECORDS = 400  # requests an hour
VALIDATION = 3000  # labelled customers the baseline was computed on
MARGIN = 0.04
#: The metrics the team kept, and how far each threshold was loosened from the baseline (in the bad direction).
LOOSENED = {"recall": 0.15, "precision": 0.15, "auc": 0.08, "f1": 0.12, "false_negative_rate": 0.15}
ATTEMPTS = 60


@dataclass(frozen=True)
class Record:
    inference_id: str
    customer: dict[str, object]
    outcome: int
    sent_at: datetime
    collected_at: datetime
    line: str = field(default="", compare=False, repr=False)  # the body, when drawn with the customer (_Drawn)

    @property
    def body(self) -> str:
        """The request: the customer as one headerless CSV line."""
        return self.line or churn.to_csv([self.customer], header=False).strip()


@dataclass(frozen=True)
class Hour:
    start: datetime
    drifted: bool
    records: tuple[Record, ...]
    metrics: dict[str, float]  # what the model-quality job computes for this hour (the grader's expectation)


def _pairs(customers, outcomes) -> list[tuple[float, str]]:
    return [(churn.score(c), str(o)) for c, o in zip(customers, outcomes, strict=True)]


def statistics(customers, outcomes) -> dict:
    return mq.compute(mq.BINARY, _pairs(customers, outcomes), probability_attribute="0",
                      probability_threshold_attribute=THRESHOLD)


@by_rng_state  # pure: drawn once per seed in a warm grader (fixtures.memo); a deep copy per call
def team_constraints(rng: random.Random) -> dict:
    """The reviewed constraints.json: the baseline's suggestion for the kept metrics, loosened."""
    customers = churn.rows(rng, VALIDATION)
    suggested = mq.suggest(statistics(customers, churn.outcomes(rng, customers)), mq.BINARY)
    kept = {}
    for name, check in suggested[mq.CONSTRAINTS_KEY[mq.BINARY]].items():
        if name in LOOSENED:
            sign = -1 if check["comparison_operator"] == mq.LESS_THAN else 1
            kept[name] = {"threshold": round(check["threshold"] + sign * LOOSENED[name], 4),
                          "comparison_operator": check["comparison_operator"]}
    return {"version": 0.0, mq.CONSTRAINTS_KEY[mq.BINARY]: kept}


def f1_threshold(constraints: dict) -> float:
    return float(constraints[mq.CONSTRAINTS_KEY[mq.BINARY]]["f1"]["threshold"])


def _clear(document: dict, constraints: dict, drifted: bool) -> bool:
    f1 = mq.metric_values(document)["f1"]
    flagged = {v["metric_name"] for v in mq.evaluate(constraints, document)["violations"]}
    if drifted:
        return "f1" in flagged and f1 <= f1_threshold(constraints) - MARGIN
    return not flagged and f1 >= f1_threshold(constraints) + MARGIN


@dataclass(frozen=True)
class _Drawn:
    """What an hour draws, without its start (the start comes from the clock): immutable, so the memo shares it.
    Per record: the customer's values (in ``churn.NAMES`` order) and request body, the outcome, the seconds
    after the start it is sent, the seconds after ``start + 50 min`` its label is collected, its id's random bits."""

    customers: tuple[tuple[object, ...], ...]
    bodies: tuple[str, ...]
    outcomes: tuple[int, ...]
    sent: tuple[int, ...]
    collected: tuple[int, ...]
    bits: tuple[int, ...]
    metrics: tuple[tuple[str, float], ...]


def _draw(rng: random.Random, drifted: bool, constraints: dict) -> _Drawn:
    """One hour's draws (see :func:`hour`): pure of (rng, drifted, constraints)."""
    for _ in range(ATTEMPTS):
        customers = churn.rows(rng, RECORDS)
        outcomes = churn.outcomes(rng, customers, concept_shift=drifted)
        document = statistics(customers, outcomes)
        if _clear(document, constraints, drifted):
            break
    else:  # pragma: no cover - the margins make this vanishingly rare
        raise RuntimeError(f"no clear {'drifted' if drifted else 'confirmed'} hour in {ATTEMPTS} draws")
    step = 3600 / RECORDS
    sent, collected, bits = [], [], []
    for i in range(len(customers)):  # per record, in this order: the draws the records always made
        sent.append(int(i * step + rng.random() * step * 0.9))
        collected.append(rng.randrange(600))  # the call-centre log, end of hour
        bits.append(rng.getrandbits(32))
    return _Drawn(tuple(tuple(c[name] for name in churn.NAMES) for c in customers),
                  tuple(churn.to_csv([c], header=False).strip() for c in customers), tuple(outcomes), tuple(sent),
                  tuple(collected), tuple(bits), tuple(mq.metric_values(document).items()))


#: One hour's draws, memoized per seed for warm graders (``fixtures.memo``): room for the six graded hours and
#: last week's, so a grading's draws all stay.
_drawn_hour = by_rng_state(size=CONFIRMED_HOURS + DRIFTED_HOURS + 1, copy=immutable,
                           key=lambda drifted, constraints: (drifted, frozen(constraints)))(_draw)


def _hour(drawn: _Drawn, start: datetime, drifted: bool, tag: str) -> Hour:
    """The hour's records from its draws (fresh dicts: a consumer cannot change the memo's)."""
    records = tuple(
        Record(f"{tag}-{start:%H}-{i:04d}-{drawn.bits[i]:08x}", dict(zip(churn.NAMES, values, strict=True)),
               drawn.outcomes[i], start + timedelta(seconds=drawn.sent[i]),
               start + timedelta(minutes=50, seconds=drawn.collected[i]), drawn.bodies[i])
        for i, values in enumerate(drawn.customers))
    return Hour(start, drifted, records, dict(drawn.metrics))


def hour(rng: random.Random, start: datetime, drifted: bool, constraints: dict, tag: str) -> Hour:
    """One hour of traffic that tells its story clearly (see the module docstring)."""
    return _hour(_drawn_hour(rng, drifted, constraints), start, drifted, tag)


def hours(rng: random.Random, first: datetime, constraints: dict, tag: str) -> list[Hour]:
    """CONFIRMED_HOURS hours the labels confirm, then DRIFTED_HOURS after the world changed."""
    return [hour(rng, first + timedelta(hours=k), k >= CONFIRMED_HOURS, constraints, tag)
            for k in range(CONFIRMED_HOURS + DRIFTED_HOURS)]


def labels(played: list[Hour]) -> list[dict]:
    """What upload_ground_truth receives: every record's label and when it was collected, in collection order."""
    out = [{"inference_id": r.inference_id, "churned": r.outcome,
            "collected_at": f"{r.collected_at:%Y-%m-%dT%H:%M:%SZ}"} for h in played for r in h.records]
    return sorted(out, key=lambda label: label["collected_at"])
