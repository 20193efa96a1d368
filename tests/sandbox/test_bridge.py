"""The sandbox's way out (``mlalab/sandbox/bridge.py``, ``unix_http.py``): the grader serves each bridged
connection with its moto server's own HTTP handler, in-process, and the learner's boto3 connects to the
bridge's socket directly; every other client of the endpoint's address still gets through the relay on
the jail's loopback, and a port served by another process still gets its connections spliced."""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

import pytest

from mlalab.sandbox import bridge
from mlalab.sandbox.bridge import UnixBridge
from mlalab.server import LabServer
from tests.adversarial import HEADER, grade_lab, isolation

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the bridge is the Linux sandboxes'")

CALLER = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" \
         "Content-Length: {n}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/sts/" \
         "aws4_request, SignedHeaders=host, Signature=0\r\n\r\n{body}"
BODY = "Action=GetCallerIdentity&Version=2011-06-15"


def ask(path: Path) -> bytes:
    """One STS GetCallerIdentity over the bridge's socket, as a learner's client sends it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(CALLER.format(n=len(BODY), body=BODY).encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_bridged_request_is_served_in_process(tmp_path, monkeypatch):
    """No loopback TCP connection to the port: the lab server's own handler answers on the Unix socket."""
    def no_tcp(*args, **kwargs):
        raise AssertionError("the bridge connected to the port")

    monkeypatch.setattr(bridge.socket, "create_connection", no_tcp)
    with LabServer() as server:
        pipe = UnixBridge(str(tmp_path / "aws.sock"), server.port)
        try:
            answer = ask(tmp_path / "aws.sock")
        finally:
            pipe.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"<GetCallerIdentityResult>" in answer and b"<Account>123456789012</Account>" in answer


def test_a_port_served_elsewhere_is_spliced(tmp_path):
    """A port this process does not serve (``serve_directly`` never called for it, or no longer: the lab
    server stopped) gets its connections copied to the port, byte for byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_once() -> None:
        conn, _ = listener.accept()
        with conn:
            request = conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nspliced"
                         if request.startswith(b"POST / ") else b"")

    threading.Thread(target=answer_once, daemon=True).start()
    with LabServer() as server:
        stopped = server.port
    assert bridge._direct_server(stopped) is None  # the lab server's stop ends its registration
    other = object()
    bridge.serve_directly(port, other)
    bridge.stop_serving_directly(port, object())  # only the server registered for a port ends its registration
    assert bridge._direct_server(port) is other
    bridge.stop_serving_directly(port, other)
    assert bridge._direct_server(port) is None
    pipe = UnixBridge(str(tmp_path / "aws.sock"), port)
    try:
        assert ask(tmp_path / "aws.sock").endswith(b"\r\n\r\nspliced")
    finally:
        pipe.close()
        listener.close()


LEARNER = HEADER + """import http.client, json
import boto3

def create_training_role(role_name, training_bucket, training_prefix, artifact_bucket, artifact_prefix,
                         kms_key_arn, log_group):
    before = open("/proc/self/net/tcp").read().count("\\n")
    account = boto3.client("sts").get_caller_identity()["Account"]
    after = open("/proc/self/net/tcp").read().count("\\n")
    # another client of the endpoint's address: the relay on the namespace's loopback
    host = os.environ["AWS_ENDPOINT_URL"].split("//", 1)[1]
    other = http.client.HTTPConnection(host, timeout=10)
    other.request("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/sts/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    status = other.getresponse().status
    print("PROBE", json.dumps({"account": account, "tcp_sockets_made": after - before, "other_client": status}))
    return role_name
"""


def test_boto3_in_the_jail_connects_to_the_socket_and_other_clients_to_the_relay(tmp_path):
    if isolation() != "linux-namespaces":
        pytest.skip("the relay on the jail's loopback exists in linux-namespaces only")
    result = grade_lab(tmp_path, LEARNER)
    line = next(line for line in result.output.splitlines() if line.startswith("PROBE "))
    probe = json.loads(line.removeprefix("PROBE "))
    assert probe == {"account": "123456789012", "tcp_sockets_made": 0, "other_client": 200}, result.output
