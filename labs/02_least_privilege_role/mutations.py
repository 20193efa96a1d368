"""Lab 02's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. ``tests/labs/test_every_lab.py`` (and ``mlalab dev
check``) require one per check. Not shipped in the learner edition: the edits quote the reference."""

EXTRA_STATEMENT = '''            {"Sid": "UseDataKey",'''

MUTATIONS = {
    "trust-policy": [('"Principal": {"Service": "sagemaker.amazonaws.com"},',
                      '"Principal": {"Service": "sagemaker.amazonaws.com", '
                      '"AWS": "arn:aws:iam::999999999999:root"},')],
    # The classic mistake: s3:ListBucket granted on the objects instead of the bucket.
    "read-training-data": [('"Resource": f"arn:aws:s3:::{training_bucket}",',
                            '"Resource": f"arn:aws:s3:::{training_bucket}/*",')],
    "training-data-scoped": [('"Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix}*"},',
                              '"Resource": f"arn:aws:s3:::{training_bucket}/*"},')],
    "list-prefix": [(',\n             "Condition": {"StringLike": {"s3:prefix": [f"{training_prefix}*"]}}}', "}")],
    "write-artifacts": [('f"arn:aws:s3:::{artifact_bucket}/{artifact_prefix}*"',
                         'f"arn:aws:s3:::{artifact_bucket}/*"')],
    "kms-key": [('             "Resource": kms_key_arn},', '             "Resource": "arn:aws:kms:*:*:key/*"},')],
    "training-logs": [('f"arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:*"',
                       'f"arn:aws:logs:{region}:{account}:log-group:*"')],
    # A wildcard that today matches only logs:PutLogEvents: nothing granted is excess, yet the wildcard
    # grants whatever matching action AWS adds later (breadth finding, not grants).
    "no-broad-statements": [('"logs:PutLogEvents"]', '"logs:PutLogEvent*"]')],
    "no-other-services": [(EXTRA_STATEMENT, '            {"Effect": "Allow", "Action": "iam:PassRole", '
                           '"Resource": f"arn:aws:iam::{account}:role/admin"},\n' + EXTRA_STATEMENT)],
}
