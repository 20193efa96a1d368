"""Former home of the sandbox's grader side, now split one module per job (see the package's
docstring). Kept only so ``from mlalab.sandbox.runner import ...`` in older callers still works;
import from ``mlalab.sandbox`` instead."""

from mlalab.sandbox import (
    OUTPUT_CAP,
    REGION,
    Call,
    LearnerProcess,
    LearnerRun,
    child_environment,
    namespaces_available,
    printable,
    run_learner,
    screen_events,
)

__all__ = ["OUTPUT_CAP", "REGION", "Call", "LearnerProcess", "LearnerRun", "child_environment",
           "namespaces_available", "printable", "run_learner", "screen_events"]
