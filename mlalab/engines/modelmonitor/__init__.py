"""SageMaker Model Monitor, offline: the pure engine behind data capture, baselining, scheduled
monitoring and model quality (issue 10). One file per job:

* ``capture``: capture records (AWS's JSON lines), S3 key layout, sampling, variant routing;
* ``datasets``: reading baseline datasets and captured payloads (CSV, JSON lines) into columns;
* ``statistics``: ``statistics.json`` (inferred types, completeness, numerical statistics with
  KLL-style buckets, categorical buckets);
* ``constraints``: ``constraints.json`` suggested from statistics, with ``monitoring_config`` defaults;
* ``drift``: distances between distributions (L-infinity, Robust, chi-squared);
* ``violations``: a monitoring run's ``constraint_violations.json``;
* ``schedule``: schedule expressions and the executions they make due;
* ``model_quality``: merging ground truth, the problem types' metrics, their constraints.

No moto and no boto3: the wire layer (``fixtures/moto_ext/sagemaker``, ``sagemakerruntime``) reads S3
and calls these functions. The real files in ``shared/reference/model-monitor`` are the yardstick.
"""
