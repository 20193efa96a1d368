"""Lab 06's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. Not shipped in the learner edition: the edits
quote the reference."""

MUTATIONS = {
    # Only the resource types the instructions name: the ad-hoc processing job is never tagged.
    "every-resource-tagged": [('get_paginator("get_resources").paginate()',
                               'get_paginator("get_resources").paginate(ResourceTypeFilters=['
                               '"sagemaker:endpoint", "sagemaker:training-job", "sagemaker:model", '
                               '"sagemaker:notebook-instance", "s3", "logs"])')],
    # The value is copied to the schema key but 'project'/'costcenter' stay: two cost allocation tags.
    "case-variants-merged": [("            if wrong_case:\n"
                              "                tagging.untag_resources(ResourceARNList=[arn], TagKeys=wrong_case)\n",
                              "")],
    # Notebook instances left out of the scope: an untagged notebook goes unnoticed.
    "config-rule-evaluates": [('["AWS::SageMaker::Model", "AWS::SageMaker::NotebookInstance",',
                               '["AWS::SageMaker::Model",')],
    # Training jobs (the most expensive line) can still start without a CostCenter.
    "scp-requires-cost-center": [('"Action": ["sagemaker:CreateEndpoint", "sagemaker:CreateTrainingJob"]',
                                  '"Action": ["sagemaker:CreateEndpoint"]')],
    # Only CostCenter: Project, Environment and Owner never reach Cost Explorer.
    "cost-allocation-tags-active": [('for key in tag_keys]', 'for key in tag_keys if key == "CostCenter"]')],
    # Usage lines only: taxes and credits vanish from the bill.
    "chargeback-totals": [('    for row in csv.DictReader(io.StringIO(text)):\n',
                           '    for row in csv.DictReader(io.StringIO(text)):\n'
                           '        if row["lineItem/LineItemType"] != "Usage":\n            continue\n')],
}
