"""The grader's in-process transport (``mlalab.transport``): a request answered in-process is the request
werkzeug's development server would have handed the same application, and gets the same answer."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

from mlalab.plugin import Aws
from mlalab.server import LabServer
from mlalab.transport import InProcess

# What only the socket path has, or what differs by nature (the client's port, the server's name).
SOCKET_ONLY = {"wsgi.input", "wsgi.errors", "werkzeug.socket", "REMOTE_PORT", "SERVER_SOFTWARE",
               "wsgi.input_terminated"}
SIGNED_PER_CALL = {"HTTP_X_AMZ_DATE", "HTTP_AUTHORIZATION", "HTTP_AMZ_SDK_INVOCATION_ID"}
S3_KEY = "reports/a b/c%2Fd+é?.json"


class Recorder:
    """A WSGI app that keeps each environ it is given and answers 500 (the client then gives up)."""

    def __init__(self) -> None:
        self.environs: list[dict] = []

    def __call__(self, environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.environs.append(dict(environ))
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"recorded"]


def requests(client_for) -> None:
    """The shapes of request the grader makes: rest-xml with an awkward key, metadata with an underscore
    and a query string; query protocol; JSON protocol; rest-json."""
    calls = [
        lambda: client_for("s3").put_object(Bucket="mlalab-transport", Key=S3_KEY, Body=b"x" * 10,
                                            Metadata={"my_key": "1", "other-key": "2"}),
        lambda: client_for("s3").list_objects_v2(Bucket="mlalab-transport", Prefix="reports/a b/", MaxKeys=5),
        lambda: client_for("iam").list_roles(PathPrefix="/service-role/"),
        lambda: client_for("events").put_rule(Name="r", EventPattern='{"source": ["aws.sagemaker"]}'),
        lambda: client_for("lambda").list_functions(MaxItems=3),
    ]
    for call in calls:
        with pytest.raises((ClientError, BotoCoreError, ResponseParserError)):  # the recorder's answer is no AWS answer
            call()


def test_the_environ_is_the_development_servers():
    over_socket, in_process = Recorder(), Recorder()
    server = make_server("127.0.0.1", 0, over_socket, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        session = boto3.session.Session(aws_access_key_id="grader", aws_secret_access_key="grader",
                                        region_name="us-east-1")
        config = Config(retries={"total_max_attempts": 1})
        direct = {}

        def in_process_client(service):
            if service not in direct:
                direct[service] = session.client(service, endpoint_url=url, config=config)
                direct[service].meta.events.register("before-send", InProcess(in_process))
            return direct[service]

        requests(lambda service: session.client(service, endpoint_url=url, config=config))
        requests(in_process_client)
    finally:
        server.shutdown()
        server.server_close()
    assert len(over_socket.environs) == len(in_process.environs) == 5
    for wire, here in zip(over_socket.environs, in_process.environs, strict=True):
        wire = {k: v for k, v in wire.items() if k not in SOCKET_ONLY | SIGNED_PER_CALL}
        here = {k: v for k, v in here.items() if k not in SOCKET_ONLY | SIGNED_PER_CALL}
        assert here == wire


def test_answers_are_the_same_in_process_and_over_http():
    with LabServer() as server:
        results = []
        for app in (None, server.app):
            server.reset()
            aws = Aws(server.endpoint_url, app)
            s3, iam = aws.client("s3"), aws.client("iam")
            s3.create_bucket(Bucket="mlalab-transport")
            s3.put_object(Bucket="mlalab-transport", Key=S3_KEY, Body=b"hello", Metadata={"my_key": "1"})
            got = s3.get_object(Bucket="mlalab-transport", Key=S3_KEY)
            listed = s3.list_objects_v2(Bucket="mlalab-transport", Prefix="reports/a b/")["Contents"]
            with pytest.raises(ClientError) as missing:
                s3.get_object(Bucket="mlalab-transport", Key="nope")
            with pytest.raises(ClientError) as invalid:
                iam.create_role(RoleName="r", AssumeRolePolicyDocument="{not json")
            missing_status = missing.value.response["ResponseMetadata"]["HTTPStatusCode"]
            results.append((got["Body"].read(), got["Metadata"], got["ContentLength"], [o["Key"] for o in listed],
                            missing.value.response["Error"], missing_status,
                            invalid.value.response["Error"]["Code"], invalid.value.response["Error"]["Message"]))
        assert results[0] == results[1]
        assert results[1][0] == b"hello" and results[1][1] == {"my_key": "1"} and results[1][3] == [S3_KEY]


def test_moto_api_stays_refused_in_process():
    with LabServer() as server:
        aws = Aws(server.endpoint_url, server.app)
        s3 = aws.client("s3")
        request_seen = {}

        def to_moto_api(request, **_):
            request.url = server.endpoint_url + "/moto-api/reset"
            request.method = "POST"
            request_seen["url"] = request.url

        s3.meta.events.register_first("before-send", to_moto_api)
        with pytest.raises(ClientError) as refused:
            s3.list_buckets()
        assert request_seen and refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
