"""The lab server installs the service-bound extensions (``moto_ext.ON_FIRST_REQUEST``) on their
services' first request, so a grading that never calls Lambda, Config or Cost Explorer does not import
moto's modules for them; every request of those services still meets its extension.

Each case runs in a fresh interpreter: which modules are imported is the property under test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import json, sys
import boto3
from botocore.config import Config
from fixtures import moto_ext
from mlalab.server import LabServer

def client(server, service):
    return boto3.client(service, endpoint_url=server.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))

def lambda_patched():
    module = sys.modules.get("fixtures.moto_ext.lambda_.responses")
    return module is not None and all(patch.installed for patch in module.PATCHES)

def imported(name):
    return name in sys.modules
"""


def run(body: str) -> dict:
    script = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_server_imports_no_lambda_config_or_cost_explorer_until_asked() -> None:
    seen = run("""
        with LabServer() as server:
            client(server, "sagemaker").list_endpoints()
            client(server, "cloudwatch").list_metrics()
            print(json.dumps({"awslambda": imported("moto.awslambda"), "config": imported("moto.config"),
                              "ce": imported("moto.ce"), "ecr": imported("moto.ecr"),
                              "config_ext": imported("fixtures.moto_ext.config"), "lambda": lambda_patched(),
                              "validating": bool(moto_ext.hooks.registered()[0])}))
    """)
    assert seen == {"awslambda": False, "config": False, "ce": False, "ecr": False, "config_ext": False,
                    "lambda": False, "validating": True}


@pytest.mark.parametrize("service, call", [("lambda", "list_functions"), ("sns", "list_topics"),
                                           ("events", "list_rules")])
def test_lambda_is_installed_before_the_first_request_of_a_service_that_reaches_it(service: str, call: str) -> None:
    seen = run(f"""
        with LabServer() as server:
            before = lambda_patched()
            getattr(client(server, "{service}"), "{call}")()
            print(json.dumps({{"before": before, "after": lambda_patched()}}))
    """)
    assert seen == {"before": False, "after": True}


def test_config_answers_through_its_extension_from_the_first_request() -> None:
    """DescribeComplianceByConfigRule is the extension's (rule compliance from its evaluations)."""
    seen = run("""
        with LabServer() as server:
            answer = client(server, "config").describe_compliance_by_config_rule()
            from fixtures.moto_ext.config import responses
            print(json.dumps({"patched": responses.PATCH.installed, "rules": answer["ComplianceByConfigRules"]}))
    """)
    assert seen == {"patched": True, "rules": []}


def test_install_and_uninstall_after_a_lazy_install() -> None:
    """An eager install() installs what a lazy one left; uninstall() puts moto back; reset() imports
    no extension that was never imported."""
    seen = run("""
        moto_ext.install(lazy=True)
        lazy = lambda_patched()
        moto_ext.reset()
        after_reset = imported("fixtures.moto_ext.config")
        moto_ext.install()
        eager = lambda_patched()
        from fixtures.moto_ext.config import responses
        config = responses.PATCH.installed
        moto_ext.uninstall()
        print(json.dumps({"lazy": lazy, "after_reset": after_reset, "eager": eager, "config": config,
                          "uninstalled": not lambda_patched() and not responses.PATCH.installed}))
    """)
    assert seen == {"lazy": False, "after_reset": False, "eager": True, "config": True, "uninstalled": True}
