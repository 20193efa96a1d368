"""Lab 04's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. Not shipped in the learner edition: the edits
quote the reference."""

OWN_ALARM_AND_STATE = ('if detail.get("alarmName") != os.environ["ALARM_NAME"] or detail.get("state", {}).get("value") '
                       '!= "ALARM":')
RESOURCES = ''',
               "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}"]}'''

MUTATIONS = {
    # Average of a per-minute count: the same number here (one datapoint a minute), but not the rate of errors.
    "alarm-metric": [('"Period": 60, "Stat": "Sum"}}', '"Period": 60, "Stat": "Average"}}')],
    # 50 %: the challenger's 20 % errors never fire the alarm (the grader forces it to test the function).
    "alarm-fires": [("        Threshold=5,\n", "        Threshold=50,\n")],
    # The challenger keeps a third of the traffic.
    "rolls-back": [('{"VariantName": challenger, "DesiredWeight": 0.0}',
                    '{"VariantName": challenger, "DesiredWeight": 0.5}')],
    # A warning that says what, but not where.
    "warns-once": [('Subject=f"Challenger rolled back on {endpoint}"', 'Subject="Challenger rolled back"'),
                   ('f"All traffic of endpoint {endpoint} now goes to {production}; {challenger} gets none."',
                    'f"All traffic now goes to {production}; {challenger} gets none."')],
    # Every alarm's state changes reach the function, and it checks only the state.
    "other-alarms-ignored": [(OWN_ALARM_AND_STATE, 'if detail.get("state", {}).get("value") != "ALARM":'),
                             (RESOURCES, "}")],
    # It acts on every state change of its alarm (OK and INSUFFICIENT_DATA too).
    "other-states-ignored": [(OWN_ALARM_AND_STATE, 'if detail.get("alarmName") != os.environ["ALARM_NAME"]:')],
    # No SourceArn: every rule of every account could invoke the function.
    "invoke-permission": [('Principal="events.amazonaws.com", SourceArn=rule_arn)',
                           'Principal="events.amazonaws.com")')],
    "role-trust": [('"Principal": {"Service": "lambda.amazonaws.com"}',
                    '"Principal": {"Service": ["lambda.amazonaws.com", "sagemaker.amazonaws.com"]}')],
    # No log permissions: the function runs, but Lambda cannot write its output anywhere.
    "role-permissions": [('        {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", '
                          '"logs:PutLogEvents"],\n         "Resource": f"{log_group}:log-stream:*"},\n', "")],
    # Every endpoint of the account.
    "role-least-privilege": [('f"arn:aws:sagemaker:{region}:{account}:endpoint/{endpoint_name}"',
                              'f"arn:aws:sagemaker:{region}:{account}:endpoint/*"')],
}
