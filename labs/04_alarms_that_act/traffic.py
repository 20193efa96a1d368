"""Lab 04's simulated hour: the endpoint's traffic, minute by minute, in four stories.

Each minute the grader publishes what SageMaker publishes for each variant that served requests
(``Invocations`` and ``Invocation5XXErrors`` as counts, ``ModelLatency`` in microseconds, namespace
``AWS/SageMaker``, dimensions ``EndpointName`` and ``VariantName``: "Monitor Amazon SageMaker AI with
Amazon CloudWatch", monitoring-cloudwatch). The endpoint's traffic is split by the variants'
*current* weights ("Production variants": a variant receives weight / sum of weights of the
requests), so once the learner's function has moved every request to production, the challenger
serves none and publishes no datapoints; canary requests that name the challenger with
``TargetVariant`` reach it whatever the weights (InvokeEndpoint API reference).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    """How one variant behaves in a minute."""

    error_rate: float  # share of its invocations that fail with a 5XX
    latency_ms: float  # average model latency


NORMAL_PRODUCTION = Health(0.004, 110.0)
NORMAL_CHALLENGER = Health(0.01, 125.0)


@dataclass(frozen=True)
class Story:
    """Minutes of traffic with the same behaviour; ``name`` is what the reports call it."""

    name: str
    minutes: int
    production: Health = NORMAL_PRODUCTION
    challenger: Health = NORMAL_CHALLENGER
    canary: int = 0  # requests per minute sent to the challenger with TargetVariant
    # Minutes (from the story's start) during which ``incident_*`` replace the normal behaviour.
    incident_minutes: range = range(0)
    incident_production: Health | None = None
    incident_challenger: Health | None = None

    def health(self, minute: int) -> tuple[Health, Health]:
        if minute in self.incident_minutes:
            return (self.incident_production or self.production, self.incident_challenger or self.challenger)
        return self.production, self.challenger


REQUESTS_PER_MINUTE = 1000

WARM_UP = Story("a quiet start (challenger at 1% errors)", minutes=3)
# The challenger slows down (p50 of 900 ms) and production fails at 12%: alarms fire, not yours.
OTHER_ALARMS = Story("other alarms fire: the challenger is slow but not failing, and production fails at 12%",
                     minutes=11, incident_minutes=range(1, 8),
                     incident_production=Health(0.12, 115.0), incident_challenger=Health(0.01, 900.0))
# The challenger fails: 20% of its requests end in a 5XX (it stops as soon as it serves no traffic).
INCIDENT = Story("the challenger fails at 20% errors", minutes=8, incident_minutes=range(0, 8),
                 incident_challenger=Health(0.20, 140.0))
# The challenger is fixed; the team sends it canary requests (TargetVariant) while it takes no
# production traffic: the alarm returns to OK.
RECOVERY = Story("the challenger is fixed and served only canary requests: the alarm returns to OK", minutes=6,
                 canary=60)

STORIES = (WARM_UP, OTHER_ALARMS, INCIDENT, RECOVERY)
FIRE_WITHIN_MINUTES = 3  # the README: the alarm fires within 3 minutes of the incident's start


def split(weights: dict[str, float], rng: random.Random) -> dict[str, int]:
    """One minute's production traffic split by the variants' current weights."""
    total = REQUESTS_PER_MINUTE + rng.randint(-40, 40)
    weight_sum = sum(weights.values())
    if weight_sum <= 0:
        return dict.fromkeys(weights, 0)
    return {variant: round(total * weight / weight_sum) for variant, weight in weights.items()}


def metric_data(endpoint: str, variant: str, invocations: int, health: Health) -> list[dict]:
    """What SageMaker publishes for one variant in one minute (nothing when it served nothing)."""
    if invocations <= 0:
        return []
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    errors = round(invocations * health.error_rate)
    return [
        {"MetricName": "Invocations", "Dimensions": dimensions, "Value": invocations, "Unit": "None"},
        {"MetricName": "Invocation5XXErrors", "Dimensions": dimensions, "Value": errors, "Unit": "None"},
        {"MetricName": "ModelLatency", "Dimensions": dimensions, "Unit": "Microseconds",
         "StatisticValues": {"SampleCount": invocations, "Sum": health.latency_ms * 1000 * invocations,
                             "Minimum": health.latency_ms * 600, "Maximum": health.latency_ms * 2500}},
    ]
