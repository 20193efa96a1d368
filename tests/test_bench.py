"""The bench's own arithmetic (``bench/bench.py``); its timings are never asserted (they depend on the machine)."""

from __future__ import annotations

import pytest

from bench.bench import cpu_bound_ceiling, of_rounds


def test_the_ceiling_spreads_two_jobs_cpu_over_at_most_two_cpus():
    one_job, two_jobs = {"seconds": 27.6}, {"cpu_seconds": 31.8}
    assert cpu_bound_ceiling(one_job, two_jobs, 2) == pytest.approx(27.6 / 15.9)
    assert cpu_bound_ceiling(one_job, two_jobs, 8) == pytest.approx(27.6 / 15.9)  # two jobs use two CPUs at most
    assert cpu_bound_ceiling(one_job, two_jobs, 1) == pytest.approx(27.6 / 31.8)


def test_a_batch_figure_is_the_median_of_its_rounds_in_time_and_cpu():
    rounds = [{"seconds": 17.0, "cpu_seconds": 33.0}, {"seconds": 16.1, "cpu_seconds": 31.5},
              {"seconds": 16.4, "cpu_seconds": 32.2}]
    assert of_rounds(rounds) == {"seconds": 16.4, "cpu_seconds": 32.2, "rounds_s": [17.0, 16.1, 16.4]}
