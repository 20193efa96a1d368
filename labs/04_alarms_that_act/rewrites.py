"""Lab 04's generated solutions (``tests/property``): rewrites of the reference that AWS treats the
same, each with the documentation that says so, which must earn full marks; and mutations that change
behaviour, which must fail the checks they name. A mutation is applied first, then rewrites: each
rewrite finds its anchor in a mutated solution too, or leaves the source alone."""

from __future__ import annotations

from tests.property.edits import Rewrite, append, chain, import_line, in_function, insert_before, sub

HANDLER, ALARM, DEPLOY, ROUTE = "handler", "create_rollback_alarm", "deploy_rollback_function", \
    "route_alarm_to_function"

ALARM_EVENTS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"
PATTERNS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html"
ADD_PERMISSION = "https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html"
UPDATE_WEIGHTS = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpointWeightsAndCapacities.html"
VARIANTS = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-ab-testing.html"
PUT_METRIC_ALARM = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
MISSING_DATA = ("https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
                "AlarmThatSendsEmail.html#alarms-and-missing-data")
LAMBDA_ZIP = "https://docs.aws.amazon.com/lambda/latest/dg/python-package.html"
LAMBDA_LOGS = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
PUBLISH = "https://docs.aws.amazon.com/sns/latest/api/API_Publish.html"
MANAGED_VS_INLINE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html"
PUT_RULE = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html"

GETSOURCE = '''
def handler_package_source():
    """Only what the handler needs: its imports and its own source."""
    return "import os\\n\\nimport boto3\\n\\n\\n" + inspect.getsource(handler)
'''

LOG_GROUP = '''boto3.client("logs").create_log_group(logGroupName=f"/aws/lambda/{function_name}")
boto3.client("logs").put_retention_policy(logGroupName=f"/aws/lambda/{function_name}", retentionInDays=30)'''

ROLE_POLICY = (r'^( *)iam\.put_role_policy\(RoleName=role_name, PolicyName="([^"]+)", '
               r'PolicyDocument=(json\.dumps\(.*\))\)$')

REWRITES = [
    Rewrite("rule-matches-alarm-name",
            in_function(ROUTE, sub(r'"resources": \[f"arn:aws:cloudwatch:[^"]*:alarm:\{alarm_name\}"\]',
                                   '"detail": {"alarmName": [alarm_name]}')),
            f"the event's detail.alarmName names the alarm as its resources list does: {ALARM_EVENTS}"),
    Rewrite("rule-matches-alarm-state",
            in_function(ROUTE, insert_before(r"rule_arn = events\.put_rule\(",
                                             'pattern.setdefault("detail", {})["state"] = {"value": ["ALARM"]}')),
            f"the handler acts only on ALARM: a rule that routes only detail.state.value ALARM changes nothing "
            f"({PATTERNS}; {ALARM_EVENTS})"),
    Rewrite("rule-on-default-bus-explicit", in_function(ROUTE, sub(r'State="ENABLED",', 'State="ENABLED", '
                                                                   'EventBusName="default",'),
                                                        sub(r'events\.put_targets\(Rule=rule_name,',
                                                            'events.put_targets(Rule=rule_name, EventBusName="default",'
                                                            )),
            f"EventBusName defaults to the default bus, where CloudWatch puts alarm events: {PUT_RULE}"),
    Rewrite("permission-source-account-too",
            in_function(ROUTE, sub(r'SourceArn=rule_arn\)', 'SourceArn=rule_arn, SourceAccount=account)')),
            f"SourceAccount narrows further; the rule's own account matches: {ADD_PERMISSION}"),
    Rewrite("package-handler-source-only",
            chain(import_line("inspect"),
                  in_function(DEPLOY, sub(r'archive\.writestr\("lambda_function\.py", source\.read\(\)\)',
                                          'archive.writestr("lambda_function.py", handler_package_source())')),
                  append(GETSOURCE, "def handler_package_source(")),
            f"a deployment package needs the handler's module, not the deploy code: {LAMBDA_ZIP}"),
    Rewrite("package-module-renamed",
            in_function(DEPLOY, sub(r'"lambda_function\.py"', '"rollback.py"'),
                        sub(r'Handler="lambda_function\.handler"', 'Handler="rollback.handler"')),
            f"Handler is <module>.<function> of any module in the package: {LAMBDA_ZIP}"),
    Rewrite("only-challenger-weight",
            in_function(HANDLER, sub(r'\[\{"VariantName": production, "DesiredWeight": 1\.0\},\n\s*',
                                     "[")),
            f"variants not listed keep their weight, and a variant gets weight / sum of weights: production at 0.9 "
            f"and challenger at 0 sends every request to production ({UPDATE_WEIGHTS}; {VARIANTS})"),
    Rewrite("publish-without-subject", in_function(HANDLER, sub(r'^ +Subject=.*\n', "")),
            f"Subject is optional, and the message names the endpoint: {PUBLISH}"),
    Rewrite("handler-describes-endpoint",
            chain(in_function(HANDLER, insert_before(
                r"boto3\.client\(\"sagemaker\"\)\.update_endpoint_weights_and_capacities\(",
                'print("before:", boto3.client("sagemaker").describe_endpoint(EndpointName=endpoint)'
                '["EndpointStatus"])')),
                  in_function(DEPLOY, sub(r'"Action": "sagemaker:UpdateEndpointWeightsAndCapacities"',
                                          '"Action": ["sagemaker:UpdateEndpointWeightsAndCapacities", '
                                          '"sagemaker:DescribeEndpoint"]'))),
            "reading the endpoint it updates (DescribeEndpoint on the same endpoint) is accepted by the README"),
    Rewrite("alarm-rate-as-fraction",
            in_function(ALARM, sub(r'"Expression": "100 \* errors / invocations"',
                                   '"Expression": "errors / invocations"'),
                        sub(r'^( +)Threshold=5,', r'\1Threshold=0.05,')),
            "errors / invocations > 0.05 is 100 * errors / invocations > 5"),
    Rewrite("alarm-greater-or-equal",
            in_function(ALARM, sub(r'"GreaterThanThreshold"', '"GreaterThanOrEqualToThreshold"')),
            "the stories run at 1% and 20% errors, far from 5%"),
    Rewrite("alarm-missing-data-default", in_function(ALARM, sub(r'^ +TreatMissingData=.*\n', "")),
            f"with the default 'missing', a challenger without traffic makes the alarm INSUFFICIENT_DATA instead of "
            f"OK: a state change the function ignores all the same ({MISSING_DATA})"),
    Rewrite("alarm-no-description", in_function(ALARM, sub(r'^ +AlarmDescription=.*\n', "")),
            f"AlarmDescription is optional: {PUT_METRIC_ALARM}"),
    Rewrite("role-managed-policy",
            in_function(DEPLOY, sub(ROLE_POLICY, r'\1policy = iam.create_policy(PolicyName=f"{role_name}-\2", '
                                    r'PolicyDocument=\3)["Policy"]' '\n'
                                    r'\1iam.attach_role_policy(RoleName=role_name, PolicyArn=policy["Arn"])')),
            f"an attached customer managed policy grants what the same inline policy does: {MANAGED_VS_INLINE}"),
    Rewrite("log-group-created-by-deploy",
            chain(in_function(DEPLOY, sub(r' +\{"Sid": "OwnLogGroup".*\n', ""),
                              insert_before(r"lam = boto3\.client\(\"lambda\"\)", LOG_GROUP))),
            f"Lambda needs logs:CreateLogGroup only when the group does not exist; creating it (with a retention) "
            f"at deploy time is the better practice: {LAMBDA_LOGS}"),
    Rewrite("log-streams-as-group-star",
            in_function(DEPLOY, sub(r'f"\{log_group\}:log-stream:\*"', 'f"{log_group}:*"')),
            "log group names contain no ':', so log-group:NAME:* reaches the same log streams"),
]

MUTATIONS = [
    Rewrite("any-alarm-any-name",
            chain(in_function(HANDLER, sub(r'detail\.get\("alarmName"\) != os\.environ\["ALARM_NAME"\] or ', "")),
                  in_function(ROUTE, sub(r',\n +"resources": \[[^\]]*\]\}', "}"))),
            "every alarm's state changes reach the function, which checks only the state",
            frozenset({"other-alarms-ignored"})),
    Rewrite("any-state", in_function(HANDLER, sub(r' or detail\.get\("state", \{\}\)\.get\("value"\) != "ALARM"', "")),
            "the function rolls back (and warns) on every state change of its alarm",
            frozenset({"other-states-ignored"})),
    Rewrite("challenger-keeps-traffic",
            in_function(HANDLER, sub(r'"VariantName": challenger, "DesiredWeight": 0\.0', '"VariantName": challenger, '
                                     '"DesiredWeight": 0.5')),
            "the failing challenger keeps a share of the requests", frozenset({"rolls-back"})),
    Rewrite("weights-swapped",
            in_function(HANDLER, sub(r'"DesiredWeight": 1\.0\}', '"DesiredWeight": 2.0}'),
                        sub(r'"DesiredWeight": 0\.0\}', '"DesiredWeight": 1.0}'),
                        sub(r'"DesiredWeight": 2\.0\}', '"DesiredWeight": 0.0}')),
            "all traffic goes to the failing challenger", frozenset({"rolls-back"})),
    Rewrite("no-warning", in_function(HANDLER, sub(r'boto3\.client\("sns"\)\.publish\(', "dict(")),
            "the function moves the traffic but tells nobody", frozenset({"warns-once"})),
    Rewrite("alarm-on-production",
            in_function(ALARM, sub(r'"Value": challenger_variant', '"Value": challenger_variant.replace("challenger", '
                                   '"production")')),
            "the alarm watches production's error rate: it fires when production fails and rolls back to it",
            frozenset({"alarm-metric", "alarm-fires"})),
    Rewrite("alarm-threshold-50", in_function(ALARM, sub(r'^( +)Threshold=(5|0\.05),', r'\1Threshold=10 * \2,')),
            "fires above 50%: the challenger's 20% errors do not", frozenset({"alarm-fires"})),
    Rewrite("permission-any-rule", in_function(ROUTE, sub(r', SourceArn=rule_arn', "")),
            "any rule of any account may invoke the function", frozenset({"invoke-permission"})),
    Rewrite("trust-sagemaker-too", in_function(DEPLOY, sub(r'"Principal": \{"Service": "lambda\.amazonaws\.com"\}',
                                                           '"Principal": {"Service": ["lambda.amazonaws.com", '
                                                           '"sagemaker.amazonaws.com"]}')),
            "SageMaker can assume the function's role", frozenset({"role-trust"})),
    Rewrite("no-log-permissions", in_function(DEPLOY, sub(r' +\{"Sid": "OwnLogs".*\n.*\n', "")),
            "Lambda cannot write the function's logs", frozenset({"role-permissions"})),
    Rewrite("any-endpoint", in_function(DEPLOY, sub(r':endpoint/\{endpoint_name\}"', ':endpoint/*"')),
            "the role can shift any endpoint's traffic", frozenset({"role-least-privilege"})),
    Rewrite("any-topic", in_function(DEPLOY, sub(r'"Action": "sns:Publish", "Resource": topic_arn',
                                                 '"Action": "sns:Publish", "Resource": "*"')),
            "the role can publish to every topic", frozenset({"role-least-privilege"})),
    Rewrite("basic-execution-role-document",
            in_function(DEPLOY, sub(r'"logs:CreateLogGroup", "Resource": f"\{log_group\}:\*"',
                                    '"logs:CreateLogGroup", "Resource": f"arn:aws:logs:{region}:{account}:*"'),
                        sub(r'"Resource": f"\{log_group\}:(log-stream:)?\*"\}', '"Resource": "*"}')),
            "the statements of the managed policy AWSLambdaBasicExecutionRole: logs on every log group",
            frozenset({"role-least-privilege"})),
]
