"""Lab 05: a private network for inference.

Write the four functions with boto3. The grader gives you an existing VPC (an application tier with
its own subnets and security group, a public subnet behind an internet gateway) and the names of the
resources to create for this run (they change every run). It grades what the network allows, with
the same reachability evaluator as ``mlalab reachability``. See README.md.
"""

import json

import boto3


def _private_subnets(ec2, vpc_id, private_cidrs):
    """The two private subnets, found by their CIDR blocks."""
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                          {"Name": "cidr-block", "Values": list(private_cidrs)}])["Subnets"]
    return [s["SubnetId"] for s in sorted(found, key=lambda s: s["CidrBlock"])]


def create_private_subnets(vpc_id, private_cidrs):
    """Create two private subnets (private_cidrs) in two Availability Zones, with a route table of
    their own that has no route to the internet gateway, and a network ACL for them."""
    # BEGIN SOLUTION
    ec2 = boto3.client("ec2")
    vpc_cidr = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for cidr, zone in zip(private_cidrs, [zones[0], zones[1]], strict=True)]

    # A route table with the local route only: no internet gateway, no NAT gateway.
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)

    # Network ACLs are stateless: allow HTTPS in from the VPC and the answers to it out, HTTPS out
    # (to S3 through the gateway endpoint) and the answers to it in, on the ephemeral ports.
    acl = ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
    rules = [
        (100, False, vpc_cidr, 443, 443),
        (110, False, "0.0.0.0/0", 1024, 65535),
        (100, True, "0.0.0.0/0", 443, 443),
        (110, True, vpc_cidr, 1024, 65535),
    ]
    for number, egress, cidr, low, high in rules:
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol="6", RuleAction="allow",
                                     Egress=egress, CidrBlock=cidr, PortRange={"From": low, "To": high})
    associations = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": subnets}])
    for current in associations["NetworkAcls"]:
        for association in current["Associations"]:
            if association["SubnetId"] in subnets:
                ec2.replace_network_acl_association(AssociationId=association["NetworkAclAssociationId"],
                                                    NetworkAclId=acl)
    return subnets
    # END SOLUTION


def create_endpoints(vpc_id, private_cidrs, app_security_group_id, endpoint_group_name, model_group_name,
                     model_bucket):
    """Create the endpoints' security group (HTTPS from the application only), the model's security
    group, interface endpoints for sagemaker.api and sagemaker.runtime with private DNS in the private
    subnets, and an S3 gateway endpoint on their route table limited to the model bucket."""
    # BEGIN SOLUTION
    ec2 = boto3.client("ec2")
    region = boto3.session.Session().region_name
    subnets = _private_subnets(ec2, vpc_id, private_cidrs)

    endpoint_group = ec2.create_security_group(GroupName=endpoint_group_name, VpcId=vpc_id,
                                               Description="SageMaker interface endpoints")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "UserIdGroupPairs": [{"GroupId": app_security_group_id}]}])
    ec2.create_security_group(GroupName=model_group_name, VpcId=vpc_id, Description="SageMaker model containers")

    for service in ("sagemaker.api", "sagemaker.runtime"):
        ec2.create_vpc_endpoint(VpcId=vpc_id, VpcEndpointType="Interface",
                                ServiceName=f"com.amazonaws.{region}.{service}", SubnetIds=subnets,
                                SecurityGroupIds=[endpoint_group], PrivateDnsEnabled=True)

    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": subnets}])
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ModelBucketOnly", "Effect": "Allow", "Principal": "*",
                       "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{model_bucket}", f"arn:aws:s3:::{model_bucket}/*"]}],
    }
    ec2.create_vpc_endpoint(VpcId=vpc_id, VpcEndpointType="Gateway", ServiceName=f"com.amazonaws.{region}.s3",
                            RouteTableIds=[t["RouteTableId"] for t in tables["RouteTables"]],
                            PolicyDocument=json.dumps(policy))
    # END SOLUTION


def enable_flow_logs(vpc_id, log_group_name, role_arn):
    """Log the VPC's rejected traffic to the CloudWatch Logs group log_group_name (delivered with role_arn)."""
    # BEGIN SOLUTION
    boto3.client("ec2").create_flow_logs(ResourceIds=[vpc_id], ResourceType="VPC", TrafficType="REJECT",
                                         LogDestinationType="cloud-watch-logs", LogGroupName=log_group_name,
                                         DeliverLogsPermissionArn=role_arn)
    # END SOLUTION


def host_model(model_name, endpoint_config_name, image_uri, model_data_url, role_arn, vpc_id, private_cidrs,
               model_group_name):
    """Create the SageMaker model in the private subnets with the model's security group and network
    isolation, and an endpoint configuration serving it."""
    # BEGIN SOLUTION
    ec2 = boto3.client("ec2")
    subnets = _private_subnets(ec2, vpc_id, private_cidrs)
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                  {"Name": "group-name", "Values": [model_group_name]}])
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(ModelName=model_name, ExecutionRoleArn=role_arn,
                           PrimaryContainer={"Image": image_uri, "ModelDataUrl": model_data_url},
                           VpcConfig={"Subnets": subnets,
                                      "SecurityGroupIds": [group["SecurityGroups"][0]["GroupId"]]},
                           EnableNetworkIsolation=True)
    sagemaker.create_endpoint_config(EndpointConfigName=endpoint_config_name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": model_name, "InitialInstanceCount": 2,
         "InstanceType": "ml.m5.xlarge"}])
    # END SOLUTION
