"""CloudWatch alarm evaluation with CloudWatch's documented semantics: a metric store and its
statistics, metric alarms, metric math, composite alarm rules and replays of recorded timelines."""
