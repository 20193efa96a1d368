"""Lab 02: a least-privilege SageMaker execution role.

Write create_training_role with boto3. The grader calls it with the names of the resources it
created for this run (they change every run) and then asks the IAM policy evaluator what your
role may and may not do. See README.md.
"""

import json

import boto3


def create_training_role(role_name, training_bucket, training_prefix, artifact_bucket, artifact_prefix,
                         kms_key_arn, log_group):
    """Create the role SageMaker training jobs assume; return its ARN."""
    # BEGIN SOLUTION
    iam = boto3.client("iam")
    region = boto3.session.Session().region_name
    account = boto3.client("sts").get_caller_identity()["Account"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    }
    permissions = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadTrainingData", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{training_bucket}/{training_prefix}*"},
            {"Sid": "ListTrainingPrefix", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": f"arn:aws:s3:::{training_bucket}",
             "Condition": {"StringLike": {"s3:prefix": [f"{training_prefix}*"]}}},
            {"Sid": "WriteModelArtifacts", "Effect": "Allow", "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{artifact_bucket}/{artifact_prefix}*"},
            {"Sid": "UseDataKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": kms_key_arn},
            {"Sid": "WriteTrainingLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:*"},
        ],
    }
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust),
                           Description="SageMaker training execution role (least privilege)")
    iam.put_role_policy(RoleName=role_name, PolicyName="training-access", PolicyDocument=json.dumps(permissions))
    return role["Role"]["Arn"]
    # END SOLUTION
