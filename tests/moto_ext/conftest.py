"""What the wire tests share: one lab server per test module (the grader's own, every extension
installed), reset by each module's ``client`` fixture before a test."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from mlalab.server import LabServer


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    with LabServer() as lab_server:
        yield lab_server


@pytest.fixture
def unvalidated_client(server):
    """``make(service)``: a boto3 client of the freshly reset server with no client-side validation, so the
    server must refuse on its own (as AWS does for any SDK)."""
    LabServer.reset()
    config = Config(parameter_validation=False, retries={"max_attempts": 1})

    def make(service: str):
        return boto3.client(service, endpoint_url=server.endpoint_url, region_name="us-east-1", config=config,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    return make


@pytest.fixture
def fresh_client(server):
    """``make(service)``: a boto3 client (validating, no retries) of the freshly reset server, after one
    read-only call, so that the service's lazily installed extensions are in place."""
    LabServer.reset()
    config = Config(retries={"max_attempts": 1})

    def make(service: str, first_call: str):
        client = boto3.client(service, endpoint_url=server.endpoint_url, region_name="us-east-1", config=config,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        getattr(client, first_call)()  # the server installs a service's extension on its first request
        return client

    return make
