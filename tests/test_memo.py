"""fixtures.memo: memoizing pure, rng-driven scenario data for warm graders (one seed per batch).

The decorator's contract (a hit equals the real call and leaves the rng where the real call would, a cached
result cannot be changed by a consumer, the cache is bounded), then each lab generator it is applied to:
the same seed gives equal results and equal rng states, and the memoized call equals the undecorated one.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from fixtures import churn, memo
from mlalab.catalog import find_lab, lab_module

traffic9 = lab_module(find_lab(9).path / "test_lab.py", "traffic")
hours8 = lab_module(find_lab(8).path / "test_lab.py", "hours")
world10 = lab_module(find_lab(10).path / "test_lab.py", "world")

calls: list[tuple] = []
FIRST_THREE, FOURTH = [41, 19, 50], 83  # random.Random(7).randrange(100), four times


@memo.by_rng_state(size=2)
def draws(rng: random.Random, n: int, scale: int = 1) -> list[int]:
    """A tiny generator: n draws (a mutable list, so the default copy applies)."""
    calls.append((n, scale))
    return [rng.randrange(100) * scale for _ in range(n)]


@pytest.fixture(autouse=True)
def fresh():
    calls.clear()
    draws.cache_clear()
    yield


def test_hit_returns_the_result_and_leaves_the_rng_where_the_real_call_did():
    real = random.Random(7)
    expected = draws.__wrapped__(real, 3)
    after_real = real.getstate()
    first, second = random.Random(7), random.Random(7)
    assert draws(first, 3) == expected
    assert draws(second, 3) == expected
    assert calls == [(3, 1), (3, 1)]  # the undecorated call and the one miss: not the hit
    assert draws.cache_info() == memo.CacheInfo(hits=1, misses=1, size=1, maxsize=2)
    assert second.getstate() == first.getstate() == after_real
    assert second.random() == real.random()  # everything drawn afterwards is the same


def test_known_values_pin_the_replay():
    assert draws(random.Random(7), 3) == FIRST_THREE
    rng = random.Random(7)
    assert draws(rng, 3) == FIRST_THREE
    assert rng.randrange(100) == FOURTH  # the draw after the three, as if they had been made


def test_another_rng_state_or_other_arguments_miss():
    draws(random.Random(7), 3)
    moved = random.Random(7)
    moved.random()
    assert draws(moved, 3) == draws.__wrapped__(_moved(7), 3)
    draws(random.Random(7), 4)
    draws(random.Random(7), 3, scale=2)
    assert draws.cache_info().misses == 4 and draws.cache_info().hits == 0
    assert calls[-1] == (3, 2)


def _moved(seed: int) -> random.Random:
    rng = random.Random(seed)
    rng.random()
    return rng


def test_a_mutated_result_does_not_leak_into_the_next_hit():
    first = draws(random.Random(7), 3)
    first.append(-1)
    first[0] = 999
    second = draws(random.Random(7), 3)
    assert second == FIRST_THREE
    second.clear()
    assert draws(random.Random(7), 3) == FIRST_THREE


def test_the_bound_holds_least_recently_used_first():
    for n in (1, 2, 3):
        draws(random.Random(7), n)
    assert draws.cache_info().size == 2  # size=2: n=1 was dropped
    draws(random.Random(7), 3)  # hit: n=3 becomes the most recent
    assert calls == [(1, 1), (2, 1), (3, 1)]
    draws(random.Random(7), 1)  # miss (dropped), drops n=2 (least recently used)
    draws(random.Random(7), 3)  # still a hit
    assert calls == [(1, 1), (2, 1), (3, 1), (1, 1)]
    assert draws.cache_info() == memo.CacheInfo(hits=2, misses=4, size=2, maxsize=2)


def test_unhashable_arguments_need_a_key_and_frozen_gives_one():
    @memo.by_rng_state(key=lambda drift: memo.frozen(drift))
    def shifted(rng: random.Random, drift: dict) -> float:
        return rng.random() + sum(drift.values())

    assert shifted(random.Random(1), {"a": 1, "b": 2}) == shifted(random.Random(1), {"b": 2, "a": 1})
    assert shifted.cache_info().hits == 1
    assert shifted(random.Random(1), {"a": 1, "b": 3}) != shifted(random.Random(1), {"a": 1, "b": 2})
    with pytest.raises(TypeError):
        draws(random.Random(1), [3])  # a list argument without a key: refused, not silently wrong


def test_frozen_keeps_types_and_structure_apart():
    assert memo.frozen({"a": [1, 2]}) == memo.frozen({"a": [1, 2]})
    assert memo.frozen([1, 2]) != memo.frozen((1, 2))
    assert memo.frozen({"a": 1}) != memo.frozen({"a": 1.5})
    assert memo.frozen({"a": True}) != memo.frozen({"a": 1})  # True == 1 in Python, not as an argument
    assert memo.frozen({1, 2}) == memo.frozen({2, 1})


def test_immutable_results_are_shared_and_copies_are_deep():
    @dataclass(frozen=True)
    class Point:
        xy: tuple[float, float]

    @memo.by_rng_state(copy=memo.immutable)
    def point(rng: random.Random) -> Point:
        return Point((rng.random(), rng.random()))

    assert point(random.Random(2)) is point(random.Random(2))
    nested = {"a": [{"b": 1}]}
    copied = memo.deep_copy(nested)
    copied["a"][0]["b"] = 2
    assert nested == {"a": [{"b": 1}]}
    local = {"f": lambda: 1}  # does not pickle: the copy falls back to copy.deepcopy
    assert memo.deep_copy(local)["f"] is local["f"] and memo.deep_copy(local) is not local


def test_a_stateless_rng_is_passed_through():
    values = [draws(random.SystemRandom(), 2) for _ in range(2)]
    assert all(len(v) == 2 for v in values)
    assert draws.cache_info().size == 0 and len(calls) == 2


def test_concurrent_callers_get_the_same_answer():
    results: list[list[int]] = []
    states: list[tuple] = []
    lock = threading.Lock()

    def grade() -> None:
        rng = random.Random(7)
        result = draws(rng, 3)
        with lock:
            results.append(result)
            states.append(rng.getstate())

    threads = [threading.Thread(target=grade) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [FIRST_THREE] * 8
    assert len(set(states)) == 1


# --- the labs' generators --------------------------------------------------------------------------------


def _twice(function, seed: str, *args):
    """Call a memoized generator from the same seed twice (the second is a hit) and undecorated once."""
    function.cache_clear()
    a, b, c = random.Random(seed), random.Random(seed), random.Random(seed)
    first, second, real = function(a, *args), function(b, *args), function.__wrapped__(c, *args)
    assert function.cache_info().hits == 1
    assert a.getstate() == b.getstate() == c.getstate()
    return first, second, real


def test_lab09_traffic():
    first, second, real = _twice(traffic9.traffic, "3:9", "datacapture/ep/AllTraffic/")
    assert first == second == real
    assert len(real.capture_files) == traffic9.HOURS * traffic9.FILES_PER_HOUR
    assert real.baseline_csv.count("\n") == traffic9.BASELINE_ROWS + 1
    first.capture_files.clear()
    first.expected.features.clear()
    assert traffic9.traffic(random.Random("3:9"), "datacapture/ep/AllTraffic/") == real


def test_lab08_baseline_documents():
    first, second, real = _twice(hours8._baseline_documents, "3:8")
    assert first == second == real
    stats, suggested, threshold = real
    assert stats["dataset"]["item_count"] == hours8.TRAINING_ROWS
    assert threshold in hours8.THRESHOLDS
    assert suggested["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == threshold
    first[0]["dataset"]["item_count"] = -1
    assert hours8._baseline_documents(random.Random("3:8"))[0]["dataset"]["item_count"] == hours8.TRAINING_ROWS


def test_lab08_earlier_documents():
    stats, suggested, threshold = hours8._baseline_documents.__wrapped__(random.Random("3:8"))
    base = hours8.Baseline("s3://b/s", "s3://b/c", stats, suggested, threshold)
    first, second, real = _twice(hours8._earlier_documents, "5:8", base, "day_minutes")
    assert first == second == real
    hours_before, incident, quiet = real
    assert 1 <= hours_before <= 5
    assert incident["statistics.json"]["dataset"]["item_count"] == quiet["statistics.json"]["dataset"]["item_count"] \
        == 300
    assert incident["constraint_violations.json"]["violations"]  # the incident hour drifted
    other = hours8.Baseline("s3://b/s", "s3://b/c", stats, suggested, threshold + 0.05)
    other.constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = threshold + 0.05
    hours8._earlier_documents(random.Random("5:8"), other, "day_minutes")
    assert hours8._earlier_documents.cache_info().misses == 2  # another baseline: another key


def test_lab08_request_bodies():
    first, second, real = _twice(hours8.request_bodies, "3:8", hours8.REQUESTS_PER_HOUR, {"day_minutes": 1.5})
    assert first == second == real
    assert first is second  # immutable: shared
    assert len(real) == hours8.REQUESTS_PER_HOUR
    expected = tuple(churn.to_csv([c], header=False).strip()
                     for c in churn.rows(random.Random("3:8"), hours8.REQUESTS_PER_HOUR, {"day_minutes": 1.5}))
    assert real == expected


def test_lab10_team_constraints():
    first, second, real = _twice(world10.team_constraints, "3:10")
    assert first == second == real
    kept = real["binary_classification_constraints"]
    assert set(kept) == set(world10.LOOSENED)
    first["binary_classification_constraints"].clear()
    assert world10.team_constraints(random.Random("3:10")) == real


def test_lab10_hours_equal_the_undecorated_draws():
    constraints = world10.team_constraints.__wrapped__(random.Random("3:10"))
    hours = world10.CONFIRMED_HOURS + world10.DRIFTED_HOURS

    def six(draw, rng):
        return tuple(draw(rng, k >= world10.CONFIRMED_HOURS, constraints) for k in range(hours))

    world10._drawn_hour.cache_clear()
    a, b, c = random.Random("4:10"), random.Random("4:10"), random.Random("4:10")
    first, second, real = six(world10._drawn_hour, a), six(world10._drawn_hour, b), six(world10._draw, c)
    assert world10._drawn_hour.cache_info().hits == 6  # the six of the second grading all kept
    assert a.getstate() == b.getstate() == c.getstate()
    assert first == second == real
    assert [len(d.customers) for d in real] == [world10.RECORDS] * 6
    one, again, real_one = _twice(world10._drawn_hour, "4:10", True, constraints)
    assert one == again == real_one == world10._draw(random.Random("4:10"), True, constraints)


def test_lab10_hours_records_are_fresh_and_as_before():
    """The assembled hours: same records from the same seed, the start only shifts them, and a consumer's
    change to a record's customer does not reach the next grading's."""
    constraints = world10.team_constraints.__wrapped__(random.Random("3:10"))
    first = datetime(2026, 3, 1, 7, tzinfo=UTC)
    a = world10.hours(random.Random("6:10"), first, constraints, "ab12")
    a[0].records[0].customer["plan"] = "changed"
    b = world10.hours(random.Random("6:10"), first, constraints, "ab12")
    assert b[0].records[0].customer["plan"] != "changed"
    record = b[0].records[0]
    assert record.inference_id.startswith("ab12-07-0000-")
    assert first <= record.sent_at < first.replace(minute=9)  # within the first record's 9-second slot
    assert record.body == churn.to_csv([record.customer], header=False).strip()
    assert [h.drifted for h in b] == [False] * 3 + [True] * 3
    later = world10.hours(random.Random("6:10"), first.replace(hour=9), constraints, "ab12")
    assert [r.customer for r in later[5].records] == [r.customer for r in b[5].records]
    assert later[0].records[0].inference_id.startswith("ab12-09-0000-")
