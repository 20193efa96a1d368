"""Lab 03's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. Not shipped in the learner edition: the edits
quote the reference."""

MUTATIONS = {
    # A single-Region trail: calls in us-west-2 leave no record.
    "multi-region": [("IsMultiRegionTrail=True", "IsMultiRegionTrail=False")],
    "log-file-validation": [("EnableLogFileValidation=True", "EnableLogFileValidation=False")],
    # No KmsKeyId: log files get SSE-S3 only (the key policy is still prepared, so CreateTrail succeeds).
    "kms-encryption": [(", KmsKeyId=kms_key_arn)", ")")],
    # aws:SourceAccount instead of aws:SourceArn: every trail of the account may write the logs.
    "log-bucket-policy": [('''"bucket-owner-full-control",
                                            "aws:SourceArn": trail_arn}}},''',
                           '''"bucket-owner-full-control",
                                            "aws:SourceAccount": account}}},''')],
    # Write-only management events: reads (DescribeEndpoint) are not logged.
    "management-events": [('[{"Field": "eventCategory", "Equals": ["Management"]}]',
                           '[{"Field": "eventCategory", "Equals": ["Management"]},\n'
                           '                            {"Field": "readOnly", "Equals": ["false"]}]')],
    # Every bucket's object events: the log bucket's and the public assets' too (noise, and a bill).
    "data-events": [('"StartsWith": [f"arn:aws:s3:::{training_bucket}/"]', '"StartsWith": ["arn:aws:s3:::"]')],
    "destructive-alerts": [('"eventName": ["DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]',
                            '"eventName": ["DeleteEndpoint", "DeleteEndpointConfig"]')],
    # Stopped jobs are not failures.
    "failed-training-routed": [('"TrainingJobStatus": ["Failed"]', '"TrainingJobStatus": ["Failed", "Stopped"]')],
    # No input transformer: the queue gets the whole event.
    "retraining-message": [(''',
        "InputTransformer": {
            "InputPathsMap": {"job": "$.detail.TrainingJobName", "reason": "$.detail.FailureReason"},
            "InputTemplate": '{"training_job_name": <job>, "failure_reason": <reason>}',
        },
    }])''', "}])")],
    # Any rule, in any account, may publish to the security topic.
    "target-policies-scoped": [('"Action": "sns:Publish", "Resource": topic_arn, '
                                '"Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}})',
                                '"Action": "sns:Publish", "Resource": topic_arn})')],
    # The newest DeleteEndpoint of the endpoint is a colleague's failed attempt, not the deletion.
    "incident-report": [(' and "errorCode" not in record', "")],
}
