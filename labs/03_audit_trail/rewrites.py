"""Lab 03's generated solutions: rewrites of the reference (``solution.py``) that AWS treats exactly like
it (each must earn full marks, alone or composed in any order), and single mutations that change what
the trail logs, what the rules deliver or what the report says (each must lose the points of the checks
in ``fails``, also after any rewrites). ``tests/property`` draws them with Hypothesis. Not for the
learner edition: the edits quote the reference.

Mutations are applied to the reference first, then rewrites."""

from __future__ import annotations

import re

from tests.property.edits import Rewrite, chain, in_function, sub

SELECTORS = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html"
CREATE_TRAIL = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html"
PATTERNS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html"
TRANSFORM = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html"
CONDITIONS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
LOOKUP = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html"
RESOURCE_POLICY = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html"

# The reference's selectors exactly: after a mutation changed them, this rewrite leaves them alone.
ADVANCED = re.escape('''AdvancedEventSelectors=[
        {"Name": "All management events",
         "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "Training data objects",
         "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{training_bucket}/"]}]},
    ])''')
BASIC = ('EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [\n'
         '        {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{training_bucket}/"]}]}])')
DESTRUCTIVE_NAMES = r'"eventName": \["DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"\]'

REWRITES = [
    Rewrite("basic-event-selectors", sub(ADVANCED, lambda _: BASIC),
            f"a basic selector with IncludeManagementEvents and an S3 DataResources prefix logs the same events: "
            f"{SELECTORS}"),
    Rewrite("key-by-id", sub(r"KmsKeyId=kms_key_arn\)", 'KmsKeyId=kms_key_arn.split("/")[-1])'),
            f"KmsKeyId accepts a key ID as well as the key ARN; AWS stores the ARN: {CREATE_TRAIL}"),
    Rewrite("event-name-prefix", sub(DESTRUCTIVE_NAMES, '"eventName": [{"prefix": "DeleteEndpoint"}, "DeleteModel"]'),
            f"in SageMaker only DeleteEndpoint and DeleteEndpointConfig start with DeleteEndpoint: {PATTERNS}"),
    Rewrite("no-source-field", sub(r' *"source": \["aws\.sagemaker"\],\n(?= *"detail-type": \["AWS API Call)', ""),
            "detail.eventSource already limits the rule to SageMaker's calls"),
    Rewrite("string-equals-source-arn", sub(r'"ArnEquals": \{"aws:SourceArn"', '"StringEquals": {"aws:SourceArn"'),
            f"an exact ARN compares the same with StringEquals and ArnEquals: {CONDITIONS}"),
    Rewrite("quoted-placeholders", sub(r"'\{\"training_job_name\": <job>, \"failure_reason\": <reason>\}'",
                                       "'{\"training_job_name\": \"<job>\", \"failure_reason\": \"<reason>\"}'"),
            f"a placeholder inside quotes is replaced by the string's text, which here needs no escaping: {TRANSFORM}"),
    Rewrite("lookup-by-resource-name", in_function(
        "investigate_endpoint_deletion",
        sub(r'\{"AttributeKey": "EventName", "AttributeValue": "DeleteEndpoint"\}',
            '{"AttributeKey": "ResourceName", "AttributeValue": endpoint_name}'),
        sub(r'if parameters\.get\("endpointName"\) == endpoint_name',
            'if record["eventName"] == "DeleteEndpoint" and parameters.get("endpointName") == endpoint_name')),
            f"looking up by ResourceName and filtering by event name finds the same record: {LOOKUP}"),
    Rewrite("time-from-lookup-event", sub(r'"deleted_at": record\["eventTime"\]',
                                          '"deleted_at": event["EventTime"].isoformat()'),
            "LookupEvents' EventTime is the record's eventTime as a timestamp; any ISO 8601 UTC form is accepted"),
    Rewrite("policies-indented", sub(r"json\.dumps\((bucket_policy|key_policy|policy)\)", r"json.dumps(\1, indent=2)"),
            "whitespace in a JSON policy means nothing"),
]

MUTATIONS = [
    Rewrite("single-region", sub(r"IsMultiRegionTrail=True", "IsMultiRegionTrail=False"),
            "a trail of us-east-1 only", frozenset({"multi-region"})),
    Rewrite("no-log-file-validation", sub(r"EnableLogFileValidation=True", "EnableLogFileValidation=False"),
            "no digest files", frozenset({"log-file-validation"})),
    Rewrite("no-kms", sub(r", KmsKeyId=kms_key_arn\)", ")"), "SSE-S3 log files", frozenset({"kms-encryption"})),
    Rewrite("bucket-policy-source-account",
            sub(r'"bucket-owner-full-control",\n( +)"aws:SourceArn": trail_arn\}',
                r'"bucket-owner-full-control",\n\1"aws:SourceAccount": account}'),
            "every trail of the account may write the logs", frozenset({"log-bucket-policy"})),
    Rewrite("bucket-policy-anyone-writes",
            sub(r"(\n +\],\n +\}\n +boto3\.client\(\"s3\"\)\.put_bucket_policy)",
                r'\n            {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", '
                r'"Resource": f"arn:aws:s3:::{log_bucket}/*"},\1'),
            "anyone may write into the audit bucket", frozenset({"log-bucket-policy"})),
    Rewrite("write-only-management",
            sub(r'\[\{"Field": "eventCategory", "Equals": \["Management"\]\}\]',
                '[{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]'),
            "reads are not logged", frozenset({"management-events"})),
    Rewrite("every-bucket-data-events", sub(r'"StartsWith": \[f"arn:aws:s3:::\{training_bucket\}/"\]',
                                            '"StartsWith": ["arn:aws:s3:::"]'),
            "every bucket's object events", frozenset({"data-events"})),
    Rewrite("no-data-selector", sub(r',\n +\{"Name": "Training data objects",\n(?:.*\n){3}', "\n"),
            "no data events", frozenset({"data-events"})),
    Rewrite("no-management-selector", sub(r' +\{"Name": "All management events",\n.*\n', ""),
            "no management events: not in the logs, and no API call reaches EventBridge",
            frozenset({"management-events", "multi-region", "destructive-alerts"})),
    Rewrite("not-started", sub(r" +cloudtrail\.start_logging\(Name=trail_name\)\n", ""),
            "a trail that never logs", frozenset({"multi-region", "management-events", "data-events",
                                                   "destructive-alerts"})),
    Rewrite("alert-without-delete-model",
            sub(DESTRUCTIVE_NAMES, '"eventName": ["DeleteEndpoint", "DeleteEndpointConfig"]'),
            "DeleteModel goes unnoticed", frozenset({"destructive-alerts"})),
    Rewrite("alert-on-every-delete", sub(DESTRUCTIVE_NAMES, '"eventName": [{"prefix": "Delete"}]'),
            "DeleteTags alerts too", frozenset({"destructive-alerts"})),
    Rewrite("no-topic-policy", sub(r" +sns\.set_topic_attributes\(.*\n", ""),
            "EventBridge may not publish", frozenset({"destructive-alerts", "target-policies-scoped"})),
    Rewrite("stopped-jobs-too", sub(r'"TrainingJobStatus": \["Failed"\]', '"TrainingJobStatus": ["Failed", "Stopped"]'),
            "stopped jobs are retrained too", frozenset({"failed-training-routed"})),
    Rewrite("no-input-transformer",
            sub(r',\n +"InputTransformer": \{\n(?:.*\n){2} +\},\n +\}\]\)', "}])"),
            "the whole event reaches the queue", frozenset({"retraining-message"})),
    Rewrite("wrong-message-key", sub(r'\\?"training_job_name\\?":', '"job_name":'),
            "the retraining service finds no training_job_name", frozenset({"retraining-message"})),
    Rewrite("queue-policy-unscoped",
            sub(r'"Resource": queue_arn, "Condition": \{"(Arn|String)Equals": \{"aws:SourceArn": rule_arn\}\}\}',
                '"Resource": queue_arn}'),
            "any rule may send retraining requests", frozenset({"target-policies-scoped"})),
    Rewrite("no-queue-policy", sub(r" +sqs\.set_queue_attributes\(.*\n", ""),
            "EventBridge may not send", frozenset({"failed-training-routed", "retraining-message",
                                                   "target-policies-scoped"})),
    Rewrite("report-failed-attempt", sub(r' and "errorCode" not in record', ""),
            "the newest record is a failed attempt", frozenset({"incident-report"})),
    Rewrite("report-first-page-only", chain(
        sub(r'get_paginator\("lookup_events"\)\.paginate\(', "lookup_events("),
        sub(r"    for page in pages:\n", "    for page in [pages]:\n")),
            "the deletion is not among the 50 newest DeleteEndpoint events", frozenset({"incident-report"})),
    Rewrite("report-session-name", sub(r'"deleted_by": record\["userIdentity"\]\["arn"\]',
                                       '"deleted_by": record["userIdentity"]["arn"].rsplit("/", 1)[-1]'),
            "a session name is not the caller's ARN", frozenset({"incident-report"})),
]
