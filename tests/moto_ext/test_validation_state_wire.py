"""Wire tests of the validation rules that need the account's state (the lookups of
``fixtures.moto_ext.validation``): through the lab's server, the refusal a learner's code sees.

- Subnets: "The CIDR block of a subnet must be a subset of the VPC's and can't overlap another subnet"
  (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html); EC2 answers InvalidSubnet.Range
  and InvalidSubnet.Conflict.
- Security groups: 60 inbound and 60 outbound rules per group
  (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
- Tags: 50 per resource, the ``aws:`` prefix reserved
  (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"


@pytest.fixture
def client(unvalidated_client):
    return unvalidated_client


def code_of(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"].get("Message", "")


def test_subnet_outside_the_vpc_and_overlapping_subnets_are_refused(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")
    assert code_of(ec2.create_subnet, VpcId=vpc, CidrBlock="10.9.1.0/24")[0] == "InvalidSubnet.Range"
    code, message = code_of(ec2.create_subnet, VpcId=vpc, CidrBlock="10.8.1.128/25")
    assert code == "InvalidSubnet.Conflict" and "10.8.1.128/25" in message
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.2.0/24")  # adjacent, not overlapping: accepted


def test_the_sixty_first_inbound_rule_is_refused(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="many-rules", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": f"10.{i}.0.0/16"} for i in range(60)]}])
    code, _ = code_of(ec2.authorize_security_group_ingress, GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.200.0.0/16"}]}])
    assert code == "RulesPerSecurityGroupLimitExceeded"
    # Egress is its own quota: the group's default egress rule plus one more is fine.
    ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.200.0.0/16"}]}])


def _model(sm) -> str:
    arn = sm.create_model(ModelName="tagged", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"})["ModelArn"]
    return arn


def test_sagemaker_reserved_prefix_is_refused_in_any_case(client):
    sm = client("sagemaker")
    arn = _model(sm)
    for key in ("aws:team", "AWS:team", "Aws:Team"):
        code, message = code_of(sm.add_tags, ResourceArn=arn, Tags=[{"Key": key, "Value": "x"}])
        assert code == "ValidationException" and key in message and "reserved" in message
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "awsome", "Value": "x"}])  # only the prefix 'aws:' is reserved


def test_sagemaker_fifty_tags_per_resource_counts_what_the_resource_has(client):
    sm = client("sagemaker")
    arn = _model(sm)
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(45)])
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "new"} for i in range(40, 50)])  # 5 new: 50
    code, message = code_of(sm.add_tags, ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert code == "ValidationException" and "50" in message
    assert len(sm.list_tags(ResourceArn=arn)["Tags"]) == 50
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "changed"}])  # updating a key adds nothing


def test_ec2_reserved_key_and_tag_quota(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    code, message = code_of(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "aws:owner", "Value": "me"}])
    assert (code, message) == ("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
    code, _ = code_of(ec2.create_subnet, VpcId=vpc, CidrBlock="10.8.1.0/24", TagSpecifications=[
        {"ResourceType": "subnet", "Tags": [{"Key": "AWS:x", "Value": "1"}]}])
    assert code == "InvalidParameterValue"


def test_logs_fifty_tags_per_log_group(client):
    logs = client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/Endpoints/x", tags={f"k{i}": "v" for i in range(50)})
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/x"
    code, message = code_of(logs.tag_resource, resourceArn=arn, tags={"extra": "v"})
    assert (code, message) == ("TooManyTagsException", "A resource can have no more than 50 tags.")
    assert code_of(logs.tag_resource, resourceArn=arn, tags={"aws:x": "v"})[0] == "InvalidParameterException"
    logs.tag_resource(resourceArn=arn, tags={"k1": "changed"})  # an update, not a 51st tag
