"""Lab 06's generated solutions: rewrites of the reference (``solution.py``) that AWS treats exactly like
it (each must earn full marks, alone or composed in any order), and single mutations that change the
tags, the rule, the SCP, the cost allocation tags or the totals (each must lose the points of the checks
in ``fails``, also after any rewrites). ``tests/property`` draws them with Hypothesis. Not for the
learner edition: the edits quote the reference.

Mutations are applied to the reference first, then rewrites."""

from __future__ import annotations

from tests.property.edits import Rewrite, sub

GET_RESOURCES = "https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html"
CONDITIONS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
REQUIRED_TAGS = "https://docs.aws.amazon.com/config/latest/developerguide/required-tags.html"

REWRITES = [
    Rewrite("small-pages", sub(r'get_paginator\("get_resources"\)\.paginate\(\)',
                               'get_paginator("get_resources").paginate(ResourcesPerPage=5)'),
            f"a smaller page size only means more pages: {GET_RESOURCES}"),
    Rewrite("null-as-bool", sub(r'\{"Null": \{"aws:RequestTag/CostCenter": "true"\}\}',
                                '{"Null": {"aws:RequestTag/CostCenter": ["true"]}}'),
            f"a condition value may be a one-element list: {CONDITIONS}"),
    Rewrite("scp-resources-by-arn", sub(r'"Resource": "\*",\n( +)"Condition": \{"Null"',
                                        r'"Resource": ["arn:aws:sagemaker:*:*:endpoint/*", '
                                        r'"arn:aws:sagemaker:*:*:training-job/*"],\n\1"Condition": {"Null"'),
            "the two actions' resource types named instead of *"),
    Rewrite("parameters-loop", sub(r'parameters = \{f"tag\{i\}Key": key for i, key in enumerate\(SCHEMA, start=1\)\}',
                                   'parameters = {}\n    for i, key in enumerate(SCHEMA, start=1):\n'
                                   '        parameters[f"tag{i}Key"] = key'),
            f"the same InputParameters built another way: {REQUIRED_TAGS}"),
    Rewrite("report-compact", sub(r"json\.dumps\(report, indent=2\)", "json.dumps(report)"),
            "whitespace in JSON means nothing"),
]

MUTATIONS = [
    Rewrite("keep-wrong-case", sub(r" +if wrong_case:\n +tagging\.untag_resources\(.*\n", ""),
            "project and costcenter stay", frozenset({"case-variants-merged"})),
    Rewrite("scp-endpoints-only", sub(r'"Action": \["sagemaker:CreateEndpoint", "sagemaker:CreateTrainingJob"\]',
                                      '"Action": ["sagemaker:CreateEndpoint"]'),
            "training jobs start untagged", frozenset({"scp-requires-cost-center"})),
    Rewrite("usage-only", sub(r"    for row in csv\.DictReader\(io\.StringIO\(text\)\):\n",
                              '    for row in csv.DictReader(io.StringIO(text)):\n'
                              '        if row["lineItem/LineItemType"] != "Usage":\n            continue\n'),
            "taxes and credits vanish", frozenset({"chargeback-totals"})),
    Rewrite("activate-one", sub(r"for key in tag_keys\]", 'for key in tag_keys if key == "CostCenter"]'),
            "only CostCenter is active", frozenset({"cost-allocation-tags-active"})),
]
