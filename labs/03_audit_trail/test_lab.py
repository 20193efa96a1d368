"""Lab 03 grader: an audit trail and an automated response, graded on what happens.

After the learner's code has run, the grader acts in the account as other people would (an ML ops
engineer deletes an endpoint, its config and its model, reads and updates others, removes tags,
deletes an alarm and another bucket's object, creates a model in another Region; a data scientist
reads and writes training data and another bucket), and SageMaker reports training jobs failing,
completing and stopping and an endpoint failing. Then it reads what arrived: the trail's log files
(gzip JSON in its bucket), the security topic's notifications (through a queue of the grader's
subscribed to it), the retraining queue's messages, and the learner's incident report. The trail's
configuration and the resource policies are read to explain a failure and to judge what behaviour
cannot show (who else could write the logs or send to the targets)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from botocore.config import Config

from checks import cloudtrail, events, require
from checks.cloudtrail import Expected, record_matcher
from checks.events import Happened, cloudtrail_call
from fixtures import scenarios
from fixtures.moto_ext import cloudtrail as trail_ext
from fixtures.moto_ext import events as events_ext
from mlalab.engines.cloudtrail import identity

OTHER_REGION = "us-west-2"
DESTRUCTIVE = "Security alerts carry every DeleteEndpoint, DeleteEndpointConfig and DeleteModel call, and nothing " \
    "else: an alert for reads, updates or other services' deletes is noise the on-call learns to ignore. Match " \
    "source aws.sagemaker, detail-type 'AWS API Call via CloudTrail' and detail.eventName (these events reach " \
    "EventBridge only while a trail is logging management events)."
RETRAIN = "The retraining service wants one message per failed training job: match detail-type 'SageMaker " \
    "Training Job State Change' with detail.TrainingJobStatus = Failed (Completed and Stopped jobs, and " \
    "endpoint state changes, are not failures to retrain on)."


@dataclass(frozen=True)
class Scenario:
    account: str
    region: str
    trail_name: str
    log_bucket: str
    kms_key_arn: str
    training_bucket: str
    other_bucket: str
    report_bucket: str
    report_key: str
    production: scenarios.Endpoint
    doomed: scenarios.Endpoint
    topic_arn: str
    queue_url: str
    queue_arn: str
    alert_rule: str
    retrain_rule: str
    deletion: scenarios.EndpointDeletion

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{name}"


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=scenarios.name(rng, "retraining-requests"))["QueueUrl"]
    s = Scenario(
        account=aws.account, region=aws.region,
        trail_name=scenarios.name(rng, "ml-audit"),
        log_bucket=scenarios.bucket(aws, rng, "ml-audit-logs"),
        kms_key_arn=scenarios.kms_key(aws, "Audit log encryption key"),
        training_bucket=scenarios.bucket(aws, rng, "ml-training-data"),
        other_bucket=scenarios.bucket(aws, rng, "ml-public-assets"),
        report_bucket=scenarios.bucket(aws, rng, "security-incidents"),
        report_key=f"incidents/{scenarios.suffix(rng, 8)}/endpoint-deletion.json",
        production=scenarios.endpoint_with_variants(aws, rng, ("prod",), (1.0,), stem="churn-xgb"),
        doomed=scenarios.endpoint_with_variants(aws, rng, ("prod",), (1.0,), stem="upsell-xgb"),
        topic_arn=scenarios.sns_topic(aws, rng, "ml-security-alerts"),
        queue_url=queue_url,
        queue_arn=sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"],
        alert_rule=scenarios.name(rng, "destructive-sagemaker-calls"),
        retrain_rule=scenarios.name(rng, "failed-training-jobs"),
        deletion=scenarios.endpoint_deletion_history(aws, rng),
    )
    aws.client("s3").put_object(Bucket=s.training_bucket, Key="datasets/churn/part-00000.csv", Body=b"f1,f2,label\n")
    learner({
        "create_audit_trail": dict(trail_name=s.trail_name, log_bucket=s.log_bucket, kms_key_arn=s.kms_key_arn,
                                   training_bucket=s.training_bucket),
        "alert_on_destructive_calls": dict(rule_name=s.alert_rule, topic_arn=s.topic_arn),
        "retrain_on_failed_training": dict(rule_name=s.retrain_rule, queue_url=s.queue_url),
        "investigate_endpoint_deletion": dict(endpoint_name=s.deletion.endpoint, report_bucket=s.report_bucket,
                                              report_key=s.report_key),
    })
    return s


@dataclass
class Story:
    """What the grader did after the learner's code ran, and what arrived."""

    engineer: str  # the ops engineer's session name, for messages
    jobs: dict[str, str]  # training job name -> the status SageMaker reported
    failure_reason: str
    alerts: list[str]  # messages the security topic delivered (to the grader's subscription)
    retraining: list[str]  # bodies in the retraining queue
    deliveries: list
    trail: cloudtrail.Trail | None
    logs: cloudtrail.Delivered


def _client(aws, service: str, key: str, region: str | None = None):
    """A client signing with another access key or in another Region (the grader's session, so the
    service model is not loaded again)."""
    return aws.session.client(service, endpoint_url=aws.endpoint_url, region_name=region or aws.region,
                              aws_access_key_id=key, aws_secret_access_key="grader",
                              config=Config(retries={"max_attempts": 1}))


def _training_job(sm, name: str, role: str, bucket: str) -> None:
    sm.create_training_job(
        TrainingJobName=name, RoleArn=role,
        AlgorithmSpecification={"TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                                "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models/"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600})


@pytest.fixture(scope="module")
def story(aws, rng, scenario) -> Story:
    s = scenario
    engineer = rng.choice(["priya.k", "tom.b", "ana.s"])
    now = datetime.now(UTC)
    # Everything the grader does from here on is signed as an ops engineer's SSO session.
    trail_ext.register_identity("grader", identity.assumed_role(
        s.account, f"AWSReservedSSO_MLOps_{rng.getrandbits(64):016x}", engineer, "grader", now - timedelta(hours=1)))
    scientist_key = "ASIADATASCIENTIST01"
    trail_ext.register_identity(scientist_key, identity.assumed_role(
        s.account, "data-science-notebooks", "notebook-session", scientist_key, now - timedelta(hours=2)))

    sqs, sns, sm = aws.client("sqs"), aws.client("sns"), aws.client("sagemaker")
    observer = sqs.create_queue(QueueName=scenarios.name(rng, "grader-observer"))["QueueUrl"]
    observer_arn = sqs.get_queue_attributes(QueueUrl=observer, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=s.topic_arn, Protocol="sqs", Endpoint=observer_arn)

    # Training jobs: one fails, one completes, one is stopped; an endpoint fails to update.
    role = aws.client("iam").get_role(RoleName=sm.describe_model(ModelName=s.production.model_name)[
        "ExecutionRoleArn"].rsplit("/", 1)[-1])["Role"]["Arn"]
    jobs = {scenarios.name(rng, "churn-train"): status for status in ("Failed", "Completed", "Stopped")}
    reason = f"AlgorithmError: ClientError: unable to read s3://{s.training_bucket}/datasets/churn/ (exit code 1)"
    for job in jobs:
        _training_job(sm, job, role, s.training_bucket)
    for job, status in jobs.items():
        events_ext.emit_sagemaker_state_change("training-job", job, status, reason if status == "Failed" else None)
    events_ext.emit_sagemaker_state_change("endpoint", s.doomed.name, "Failed", "Capacity error: ml.m5.xlarge")

    # The ops engineer: reads, a non-destructive update, tags removed, then the destructive calls.
    sm.describe_endpoint(EndpointName=s.production.name)
    sm.list_models()
    endpoint_arn = sm.describe_endpoint(EndpointName=s.production.name)["EndpointArn"]
    sm.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": "owner", "Value": "ml-platform"}])
    sm.delete_tags(ResourceArn=endpoint_arn, TagKeys=["owner"])
    sm.delete_endpoint(EndpointName=s.doomed.name)
    sm.delete_endpoint_config(EndpointConfigName=s.doomed.config_name)
    sm.delete_model(ModelName=s.doomed.model_name)
    aws.client("cloudwatch").delete_alarms(AlarmNames=[f"{s.doomed.name}-latency"])
    aws.client("s3").delete_object(Bucket=s.other_bucket, Key="banner.png")
    _client(aws, "sagemaker", "grader", OTHER_REGION).create_model(
        ModelName=s.production.model_name, ExecutionRoleArn=role,
        PrimaryContainer={"Image": f"{s.account}.dkr.ecr.{OTHER_REGION}.amazonaws.com/xgboost:1.7-1"})

    # The data scientist: training data read and written, a public asset read.
    s3 = _client(aws, "s3", scientist_key)
    s3.get_object(Bucket=s.training_bucket, Key="datasets/churn/part-00000.csv")
    s3.put_object(Bucket=s.training_bucket, Key="datasets/churn/part-00001.csv", Body=b"1,2,0\n")
    s3.put_object(Bucket=s.other_bucket, Key="logo.png", Body=b"png")

    found = cloudtrail.trail(aws, s.trail_name)
    logs = cloudtrail.delivered(aws, found.bucket, found.prefix) if found else cloudtrail.Delivered()
    alerts = events.sns_messages(events.drain(aws, observer))
    return Story(engineer=engineer, jobs=jobs, failure_reason=reason, alerts=alerts,
                 retraining=events.drain(aws, s.queue_url), deliveries=events_ext.deliveries(), trail=found,
                 logs=logs)


def existing_trail(story: Story, scenario: Scenario) -> cloudtrail.Trail:
    if story.trail is None:
        require(cloudtrail.missing_trail(scenario.trail_name))
    return story.trail


@pytest.mark.check("multi-region")
def test_multi_region(scenario, story):
    t = existing_trail(story, scenario)
    probe = Expected(f"CreateModel in {OTHER_REGION} by {story.engineer}",
                     record_matcher("CreateModel", OTHER_REGION, modelName=scenario.production.model_name))
    require(cloudtrail.multi_region(t, story.logs, probe, scenario.region))


@pytest.mark.check("log-file-validation")
def test_log_file_validation(scenario, story):
    require(cloudtrail.log_file_validation(existing_trail(story, scenario), story.logs))


@pytest.mark.check("kms-encryption")
def test_kms_encryption(scenario, story):
    require(cloudtrail.encrypted_with(existing_trail(story, scenario), story.logs, scenario.kms_key_arn))


@pytest.mark.check("log-bucket-policy")
def test_log_bucket_policy(aws, scenario, story):
    t = existing_trail(story, scenario)
    require(cloudtrail.log_bucket_policy(aws, t.bucket, t.arn, scenario.account, scenario.region, t.prefix))


@pytest.mark.check("management-events")
def test_management_events(scenario, story):
    s, who = scenario, story.engineer
    require(cloudtrail.logged(existing_trail(story, s), story.logs, [
        Expected(f"DescribeEndpoint of {s.production.name} by {who} (a read)",
                 record_matcher("DescribeEndpoint", endpointName=s.production.name)),
        Expected(f"DeleteEndpoint of {s.doomed.name} by {who} (a write)",
                 record_matcher("DeleteEndpoint", endpointName=s.doomed.name)),
    ], "An audit trail logs every management event, reads included (ReadWriteType All, or no readOnly field "
       "selector): who looked at an endpoint or a key is often the first question of an investigation."))


@pytest.mark.check("data-events")
def test_data_events(scenario, story):
    s = scenario
    t = existing_trail(story, s)
    concept = ("Data events (object reads and writes) are not logged by default and are billed per event: log them "
               f"for the training data only, with an advanced event selector on resources.ARN StartsWith "
               f"arn:aws:s3:::{s.training_bucket}/ (or a basic selector's DataResources), so a poisoned or leaked "
               "training file can be traced to who wrote or read it.")
    require(cloudtrail.logged(t, story.logs, [
        Expected(f"GetObject of s3://{s.training_bucket}/datasets/churn/part-00000.csv",
                 record_matcher("GetObject", bucketName=s.training_bucket, key="datasets/churn/part-00000.csv")),
        Expected(f"PutObject of s3://{s.training_bucket}/datasets/churn/part-00001.csv",
                 record_matcher("PutObject", bucketName=s.training_bucket, key="datasets/churn/part-00001.csv")),
    ], concept))
    training = f"arn:aws:s3:::{s.training_bucket}/"

    def other_data_event(record: dict) -> bool:
        resources = record.get("resources") or [{}]
        return record.get("eventCategory") == "Data" and not str(resources[0].get("ARN", "")).startswith(training)

    require(cloudtrail.not_logged(t, story.logs, other_data_event, "data events outside the training bucket", concept))


@pytest.mark.check("destructive-alerts")
def test_destructive_alerts(scenario, story):
    s, who = scenario, story.engineer
    wanted = [
        Happened(f"DeleteEndpoint of {s.doomed.name}", cloudtrail_call("DeleteEndpoint", endpointName=s.doomed.name)),
        Happened(f"DeleteEndpointConfig of {s.doomed.config_name}",
                 cloudtrail_call("DeleteEndpointConfig", endpointConfigName=s.doomed.config_name)),
        Happened(f"DeleteModel of {s.doomed.model_name}",
                 cloudtrail_call("DeleteModel", modelName=s.doomed.model_name)),
    ]
    unwanted = [Happened(f"{name} by {who}", cloudtrail_call(name)) for name in (
        "DescribeEndpoint", "ListModels", "AddTags", "DeleteTags", "DeleteAlarms", "DeleteObject", "PutObject",
        "GetObject", "CreateTrainingJob", "CreateModel", "Subscribe", "CreateQueue", "GetQueueAttributes")]
    unwanted.append(Happened("a SageMaker state-change event",
                             lambda m: isinstance(m, dict) and str(m.get("detail-type", "")).endswith("State Change")))
    concept = DESTRUCTIVE
    if story.trail is None or not story.trail.logging:
        concept += f" Your trail {s.trail_name} is not logging, so no API call reached EventBridge."
    require(events.received_exactly(f"security topic {s.topic_arn}", story.alerts, wanted, unwanted, s.alert_rule,
                                    story.deliveries, concept))


def _names_job(job: str):
    return lambda message: job in (json.dumps(message) if not isinstance(message, str) else message)


@pytest.mark.check("failed-training-routed")
def test_failed_training_routed(scenario, story):
    failed = [j for j, status in story.jobs.items() if status == "Failed"]
    others = [j for j, status in story.jobs.items() if status != "Failed"]
    wanted = [Happened(f"training job {j} Failed", _names_job(j)) for j in failed]
    unwanted = [Happened(f"training job {j} {story.jobs[j]}", _names_job(j)) for j in others]
    unwanted.append(Happened(f"endpoint {scenario.doomed.name} Failed", _names_job(scenario.doomed.name)))
    require(events.received_exactly(f"retraining queue {scenario.queue_url}", story.retraining, wanted, unwanted,
                                    scenario.retrain_rule, story.deliveries, RETRAIN))


@pytest.mark.check("retraining-message")
def test_retraining_message(scenario, story):
    job = next(j for j, status in story.jobs.items() if status == "Failed")
    expected = {"training_job_name": job, "failure_reason": story.failure_reason}
    require(events.transformed_message(f"retraining queue {scenario.queue_url}", story.retraining, job, expected,
                                       scenario.retrain_rule, story.deliveries))


@pytest.mark.check("target-policies-scoped")
def test_target_policies_scoped(aws, scenario):
    s = scenario
    topic_policy = aws.client("sns").get_topic_attributes(TopicArn=s.topic_arn)["Attributes"].get("Policy")
    queue_policy = aws.client("sqs").get_queue_attributes(QueueUrl=s.queue_url, AttributeNames=["Policy"]).get(
        "Attributes", {}).get("Policy")  # no Attributes at all when the queue has no policy
    require(events.target_policy_scoped(f"access policy of topic {s.topic_arn}", topic_policy, "sns:Publish",
                                        s.topic_arn, s.rule_arn(s.alert_rule), s.account, s.region),
            events.target_policy_scoped(f"access policy of queue {s.queue_arn}", queue_policy, "sqs:SendMessage",
                                        s.queue_arn, s.rule_arn(s.retrain_rule), s.account, s.region))


@pytest.mark.check("incident-report")
def test_incident_report(aws, scenario):
    s, d = scenario, scenario.deletion
    require(cloudtrail.audit_report(aws, s.report_bucket, s.report_key, d.endpoint,
                                    cloudtrail.AuditAnswer(d.deleted_by, d.deleted_at, d.source_ip)))
