"""SageMaker: botocore's model constraints apply to every operation (names, ARNs, enums such as
instance types, ranges such as InitialInstanceCount); no cross-parameter rule is modelled yet.

Add rules here as ``RULES = {"Operation": [rule, ...]}``, each citing its API reference page
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/).
"""

from __future__ import annotations

RULES: dict = {}
