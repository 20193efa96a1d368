"""Lab 05's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. Not shipped in the learner edition."""

MUTATIONS = {
    # Both subnets in one Availability Zone: one zone's outage stops the endpoint.
    "private-subnets": [("[zones[0], zones[1]]", "[zones[0], zones[0]]")],
    # A default route to the internet gateway makes the subnets public (the gateway endpoint's route,
    # more specific, still carries S3; the interfaces have no public address, so nothing else changes yet).
    "no-internet-path": [('''    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)''', '''    igw = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=igw["InternetGateways"][0]["InternetGatewayId"])
    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)''')],
    # The ACL is created but the subnets keep the default ACL, which allows everything.
    "network-acl": [("            if association[\"SubnetId\"] in subnets:",
                     "            if association[\"SubnetId\"] in subnets[:0]:")],
    # A CIDR source instead of the application's security group: every host in 10/8 gets in.
    "endpoint-access": [('"UserIdGroupPairs": [{"GroupId": app_security_group_id}]',
                         '"IpRanges": [{"CidrIp": "10.0.0.0/8"}]')],
    # Every bucket through the gateway endpoint.
    "s3-gateway": [('"Resource": [f"arn:aws:s3:::{model_bucket}", f"arn:aws:s3:::{model_bucket}/*"]',
                    '"Resource": "*"')],
    # The model's group opens a port to the world (nothing else notices: it has no public path).
    "no-open-ingress": [(
        '    ec2.create_security_group(GroupName=model_group_name, VpcId=vpc_id, '
        'Description="SageMaker model containers")',
        '    model_group = ec2.create_security_group(GroupName=model_group_name, VpcId=vpc_id,\n'
        '                                            Description="SageMaker model containers")["GroupId"]\n'
        '    ec2.authorize_security_group_ingress(GroupId=model_group, IpPermissions=[\n'
        '        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])')],
    # Accepted traffic only: the rejects, the evidence a control works, are not logged.
    "flow-logs": [('TrafficType="REJECT"', 'TrafficType="ACCEPT"')],
    "model-isolation": [("EnableNetworkIsolation=True", "EnableNetworkIsolation=False")],
}
