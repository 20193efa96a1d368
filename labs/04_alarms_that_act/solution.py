"""Lab 04: alarms that act.

Write the handler and the three functions below with boto3. The grader calls the three functions,
in this order, with the names of the resources it created for this run (they change every run).
The handler runs in Lambda: your deploy code can package this very file as the function's code and
give the function the names the handler needs as environment variables. See README.md.
"""

import io
import json
import os
import time
import zipfile

import boto3

NAMESPACE = "AWS/SageMaker"


def handler(event, context):
    """Lambda handler: when the challenger's error-rate alarm enters ALARM, send all traffic to the
    production variant and post a warning; do nothing for any other alarm or state change."""
    # BEGIN SOLUTION
    detail = event.get("detail") or {}
    if detail.get("alarmName") != os.environ["ALARM_NAME"] or detail.get("state", {}).get("value") != "ALARM":
        print(f"ignored: {detail.get('alarmName')} is {detail.get('state', {}).get('value')}")
        return {"rolled_back": False}
    endpoint = os.environ["ENDPOINT_NAME"]
    production, challenger = os.environ["PRODUCTION_VARIANT"], os.environ["CHALLENGER_VARIANT"]
    boto3.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": production, "DesiredWeight": 1.0},
                                     {"VariantName": challenger, "DesiredWeight": 0.0}],
    )
    boto3.client("sns").publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Subject=f"Challenger rolled back on {endpoint}",
        Message=(f"Alarm {detail['alarmName']} entered ALARM at {event.get('time')}: "
                 f"{detail['state'].get('reason', '')}\n"
                 f"All traffic of endpoint {endpoint} now goes to {production}; {challenger} gets none."),
    )
    print(f"rolled back {endpoint}: {production}=1, {challenger}=0")
    return {"rolled_back": True}
    # END SOLUTION


def create_rollback_alarm(alarm_name, endpoint_name, challenger_variant):
    """An alarm on the challenger variant's 5XX error rate: above 5 % in 2 of 3 one-minute periods."""
    # BEGIN SOLUTION
    dimensions = [{"Name": "EndpointName", "Value": endpoint_name},
                  {"Name": "VariantName", "Value": challenger_variant}]

    def count(query_id, metric_name):
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": metric_name, "Dimensions": dimensions},
            "Period": 60, "Stat": "Sum"}}

    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm_name,
        AlarmDescription=f"5XX error rate of challenger {challenger_variant} on {endpoint_name} above 5%",
        Metrics=[
            count("errors", "Invocation5XXErrors"),
            count("invocations", "Invocations"),
            {"Id": "error_rate", "Expression": "100 * errors / invocations", "Label": "challenger 5XX rate (%)",
             "ReturnData": True},
        ],
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    # END SOLUTION


def deploy_rollback_function(function_name, role_name, endpoint_name, production_variant, challenger_variant,
                             alarm_name, topic_arn):
    """The function's execution role (least privilege) and the function itself; return its ARN."""
    # BEGIN SOLUTION
    iam = boto3.client("iam")
    region = boto3.session.Session().region_name
    account = boto3.client("sts").get_caller_identity()["Account"]
    log_group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function_name}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    permissions = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ShiftTraffic", "Effect": "Allow", "Action": "sagemaker:UpdateEndpointWeightsAndCapacities",
         "Resource": f"arn:aws:sagemaker:{region}:{account}:endpoint/{endpoint_name}"},
        {"Sid": "Warn", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": f"{log_group}:*"},
        {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group}:log-stream:*"},
    ]}
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust),
                               Description=f"Execution role of {function_name}")["Role"]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="rollback", PolicyDocument=json.dumps(permissions))

    # The deployment package: this file, as lambda_function.py (the handler is lambda_function.handler).
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive, open(__file__) as source:
        archive.writestr("lambda_function.py", source.read())
    lam = boto3.client("lambda")
    for attempt in range(10):
        try:
            return lam.create_function(
                FunctionName=function_name, Runtime="python3.12", Role=role_arn,
                Handler="lambda_function.handler", Code={"ZipFile": package.getvalue()}, Timeout=30,
                Description=f"Rolls {endpoint_name} back to {production_variant} when {alarm_name} fires",
                Environment={"Variables": {"ALARM_NAME": alarm_name, "ENDPOINT_NAME": endpoint_name,
                                           "PRODUCTION_VARIANT": production_variant,
                                           "CHALLENGER_VARIANT": challenger_variant, "TOPIC_ARN": topic_arn}},
            )["FunctionArn"]
        except lam.exceptions.InvalidParameterValueException:
            # A new role takes a few seconds to reach Lambda in AWS ("cannot be assumed by Lambda").
            if attempt == 9:
                raise
            time.sleep(2)
    # END SOLUTION


def route_alarm_to_function(rule_name, alarm_name, function_name):
    """An EventBridge rule that sends the alarm's state changes to the function, which it may invoke."""
    # BEGIN SOLUTION
    region = boto3.session.Session().region_name
    account = boto3.client("sts").get_caller_identity()["Account"]
    events, lam = boto3.client("events"), boto3.client("lambda")
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
               "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}"]}
    rule_arn = events.put_rule(Name=rule_name, EventPattern=json.dumps(pattern), State="ENABLED",
                               Description=f"State changes of {alarm_name}")["RuleArn"]
    function_arn = lam.get_function(FunctionName=function_name)["Configuration"]["FunctionArn"]
    lam.add_permission(FunctionName=function_name, StatementId=f"invoke-from-{rule_name}",
                       Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=rule_arn)
    events.put_targets(Rule=rule_name, Targets=[{"Id": "rollback", "Arn": function_arn}])
    return rule_arn
    # END SOLUTION
