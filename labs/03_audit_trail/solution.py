"""Lab 03: an audit trail and an automated response.

Write the four functions with boto3. The grader calls them with the names of the resources it
created for this run (they change every run), then acts in the account as other people would:
deletes endpoints, reads training data, fails training jobs. It grades what your trail logged,
what reached the security topic and the retraining queue, and your incident report. See README.md.
"""

import json

import boto3


def create_audit_trail(trail_name, log_bucket, kms_key_arn, training_bucket):
    """Create and start a multi-Region trail that logs to log_bucket, encrypted with kms_key_arn,
    with log file validation, logging management events and the training bucket's object events."""
    # BEGIN SOLUTION
    region = boto3.session.Session().region_name
    account = boto3.client("sts").get_caller_identity()["Account"]
    trail_arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{trail_name}"
    only_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}

    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{log_bucket}",
             "Condition": only_this_trail},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{log_bucket}/AWSLogs/{account}/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                            "aws:SourceArn": trail_arn}}},
        ],
    }
    boto3.client("s3").put_bucket_policy(Bucket=log_bucket, Policy=json.dumps(bucket_policy))

    # Add CloudTrail's statements to the key policy, keeping the ones already there.
    kms = boto3.client("kms")
    key_policy = json.loads(kms.get_key_policy(KeyId=kms_key_arn, PolicyName="default")["Policy"])
    key_policy["Statement"] += [
        {"Sid": "AllowCloudTrailToEncryptLogs", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                      f"arn:aws:cloudtrail:*:{account}:trail/*"}}},
        {"Sid": "AllowCloudTrailToDescribeKey", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:DescribeKey", "Resource": "*",
         "Condition": only_this_trail},
    ]
    kms.put_key_policy(KeyId=kms_key_arn, PolicyName="default", Policy=json.dumps(key_policy))

    cloudtrail = boto3.client("cloudtrail")
    cloudtrail.create_trail(Name=trail_name, S3BucketName=log_bucket, IsMultiRegionTrail=True,
                            IncludeGlobalServiceEvents=True, EnableLogFileValidation=True, KmsKeyId=kms_key_arn)
    cloudtrail.put_event_selectors(TrailName=trail_name, AdvancedEventSelectors=[
        {"Name": "All management events",
         "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "Training data objects",
         "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{training_bucket}/"]}]},
    ])
    cloudtrail.start_logging(Name=trail_name)
    return trail_arn
    # END SOLUTION


def alert_on_destructive_calls(rule_name, topic_arn):
    """Send every DeleteEndpoint, DeleteEndpointConfig and DeleteModel call made in SageMaker to the
    security topic, as it happens."""
    # BEGIN SOLUTION
    events = boto3.client("events")
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["sagemaker.amazonaws.com"],
                   "eventName": ["DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]},
    }
    rule_arn = events.put_rule(Name=rule_name, EventPattern=json.dumps(pattern), State="ENABLED")["RuleArn"]
    events.put_targets(Rule=rule_name, Targets=[{"Id": "security-topic", "Arn": topic_arn}])

    # The topic's access policy must let EventBridge publish, for this rule only.
    sns = boto3.client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    policy["Statement"].append(
        {"Sid": "AllowDestructiveCallsRule", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": "sns:Publish", "Resource": topic_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}})
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return rule_arn
    # END SOLUTION


def retrain_on_failed_training(rule_name, queue_url):
    """Send each failed training job to the retraining queue as
    {"training_job_name": ..., "failure_reason": ...}."""
    # BEGIN SOLUTION
    sqs = boto3.client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Training Job State Change"],
        "detail": {"TrainingJobStatus": ["Failed"]},
    }
    rule_arn = events.put_rule(Name=rule_name, EventPattern=json.dumps(pattern), State="ENABLED")["RuleArn"]
    events.put_targets(Rule=rule_name, Targets=[{
        "Id": "retraining-queue", "Arn": queue_arn,
        "InputTransformer": {
            "InputPathsMap": {"job": "$.detail.TrainingJobName", "reason": "$.detail.FailureReason"},
            "InputTemplate": '{"training_job_name": <job>, "failure_reason": <reason>}',
        },
    }])

    # The queue's access policy must let EventBridge send messages, for this rule only.
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AllowFailedTrainingRule", "Effect": "Allow",
                       "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                       "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    return rule_arn
    # END SOLUTION


def investigate_endpoint_deletion(endpoint_name, report_bucket, report_key):
    """Find in CloudTrail's event history who deleted the endpoint endpoint_name, when and from which
    IP address, and write the answer as JSON to s3://report_bucket/report_key."""
    # BEGIN SOLUTION
    pages = boto3.client("cloudtrail").get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DeleteEndpoint"}])
    report = None
    for page in pages:
        for event in page["Events"]:
            record = json.loads(event["CloudTrailEvent"])
            parameters = record.get("requestParameters") or {}
            # A call that failed (errorCode) deleted nothing.
            if parameters.get("endpointName") == endpoint_name and "errorCode" not in record:
                report = {"deleted_by": record["userIdentity"]["arn"], "deleted_at": record["eventTime"],
                          "source_ip": record["sourceIPAddress"]}
                break
        if report:
            break
    boto3.client("s3").put_object(Bucket=report_bucket, Key=report_key, Body=json.dumps(report).encode())
    return report
    # END SOLUTION
