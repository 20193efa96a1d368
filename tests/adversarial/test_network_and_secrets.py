"""Learner code that reaches past its lab: moto's control plane, the network, the grader's secrets."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.adversarial import (
    HEADER,
    SIGNATURE,
    TRY,
    assert_refused,
    grade_lab,
    isolation,
    process_only,
    solution_source,
)

MOTO_API = ["/moto-api/reset", "/moto-api/data.json", "/moto-api/seed?a=42", "/moto-api/reset-auth",
            "//moto-api/reset", "/%6Doto-api/reset", "/moto-api/state-manager/set-transition",
            "/moto-api/recorder/start-recording", "/moto-api/"]
CALL_MOTO_API = '''
import http.client, os, socket, urllib.error, urllib.request
class _Bridge(http.client.HTTPConnection):
    # chroot-seccomp allows no TCP at all: the one way out there is the bridge's Unix socket
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(f"/run/{os.getuid()}/aws.sock")
def moto_api():
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    for path in PATHS:
        data = b"{}" if "reset" in path else None
        request = urllib.request.Request(endpoint + path, data=data, headers={"Host": "motoapi.amazonaws.com"})
        try:
            answer = urllib.request.urlopen(request, timeout=5)
            print(path, "ANSWERED", answer.status, answer.read()[:60])
        except urllib.error.HTTPError as exc:
            print(path, "HTTP", exc.code, exc.read()[:80])
        except urllib.error.URLError as exc:
            print(path, "NO TCP", exc.reason)
            bridge = _Bridge("127.0.0.1", timeout=5)
            bridge.request("POST" if data else "GET", path, body=data, headers={"Host": "motoapi.amazonaws.com"})
            answer = bridge.getresponse()
            print(path, "HTTP" if answer.status >= 400 else "ANSWERED", answer.status, answer.read()[:80])
'''.replace("PATHS", repr(MOTO_API))


# --- 9. moto's own control plane -------------------------------------------------------------------

def test_moto_api_is_refused_and_earns_nothing(tmp_path):
    result = grade_lab(tmp_path, HEADER + CALL_MOTO_API + "moto_api()\n" + SIGNATURE + "    moto_api()\n")
    assert result.score == 0
    for path in MOTO_API:
        assert f"{path} HTTP 403 b'moto-api is disabled in mla-labs" in result.output, result.output
    assert "ANSWERED" not in result.output
    if isolation() == "chroot-seccomp":  # no TCP socket at all; the bridge's Unix socket got the same 403
        for path in MOTO_API:
            assert f"{path} NO TCP [Errno 1] Operation not permitted" in result.output, result.output
    else:
        assert "NO TCP" not in result.output, result.output


def test_resetting_moto_after_a_correct_solution_has_no_effect(tmp_path):
    # The reference solution, then a reset of every backend and a new seed: if either worked, the
    # role (and the grader's scenario: buckets, key, log group) would be gone and checks would fail.
    source = solution_source().replace('    return role["Role"]["Arn"]',
                                       '    moto_api()\n    return role["Role"]["Arn"]')
    result = grade_lab(tmp_path, CALL_MOTO_API + source)
    assert result.score == result.max_score == 16
    assert "/moto-api/reset HTTP 403" in result.output


# --- 11. the network, beyond the lab's endpoint -----------------------------------------------------

class Listener:
    """A grader-side TCP (or Unix) listener that records every connection it gets."""

    def __init__(self, family: int, address) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()
        self.accepted = 0
        self.closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


@pytest.fixture
def listeners(tmp_path):
    made = [Listener(socket.AF_INET, ("127.0.0.1", 0)), Listener(socket.AF_INET, ("127.0.0.2", 0)),
            Listener(socket.AF_UNIX, str(tmp_path / "grader.sock"))]
    yield made
    for listener in made:
        listener.close()


def network_source(listeners, dns: bool = True) -> str:
    """Every target is a loopback address (this machine's rules: tests never aim anywhere else).
    DNS look-ups are attempted only where no packet can leave even if the refusal failed (the network
    namespace; chroot-seccomp, whose filter allows no inet socket); the process-only fallback has no
    such guarantee, so it does not try them."""
    tcp = [tuple(listener.address) for listener in listeners[:2]]
    unix = listeners[2].address
    lookups = '''
    attempt("dns", lambda: socket.getaddrinfo("example.com", 443))
    attempt("dns by name", lambda: socket.gethostbyname("pypi.org"))''' if dns else ""
    return HEADER + TRY + f'''
import socket, urllib.request
def reach_out():
    for address in {tcp!r} + [("127.0.0.1", 22), ("127.0.0.3", 80), ("::1", {tcp[0][1]})]:
        attempt(f"tcp {{address}}", lambda: socket.create_connection(address, timeout=2).close())
    attempt("unix", lambda: socket.socket(socket.AF_UNIX).connect({unix!r}))
    attempt("http", lambda: urllib.request.urlopen("http://127.0.0.1:{tcp[0][1]}/", timeout=2)){lookups}
    attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.4", 53)))
    attempt("listen", lambda: socket.socket().bind(("0.0.0.0", 8080)))
reach_out()
''' + SIGNATURE + "    reach_out()\n"


def assert_no_connection(result, listeners, dns: bool = True) -> None:
    assert result.score == 0
    assert [listener.accepted for listener in listeners] == [0, 0, 0]
    assert "DONE" not in result.output, result.output
    (port1, port2) = listeners[0].address[1], listeners[1].address[1]
    if isolation() == "chroot-seccomp":
        # The seccomp filter refuses every inet socket when it is created, before any connect the audit
        # hook could name: the kernel's own words, for each attempt.
        for label in (f"tcp ('127.0.0.1', {port1})", f"tcp ('127.0.0.2', {port2})", "tcp ('127.0.0.1', 22)",
                      "tcp ('127.0.0.3', 80)", f"tcp ('::1', {port1})", "udp", "listen"):
            assert f"{label}: FAILED PermissionError: [Errno 1] Operation not permitted" in result.output, label
        assert "http: FAILED URLError: <urlopen error [Errno 1] Operation not permitted>" in result.output
    else:
        assert_refused(result,
                       f"open a network connection to ('127.0.0.1', {port1}) (only the lab's AWS endpoint can be "
                       "reached)",
                       f"open a network connection to ('127.0.0.2', {port2})",
                       "open a network connection to ('127.0.0.1', 22)",
                       "open a network connection to ('127.0.0.3', 80)",
                       f"open a network connection to ('::1', {port1})",
                       "send network data to ('127.0.0.4', 53)",
                       "listen for network connections on ('0.0.0.0', 8080)")
    assert_refused(result,
                   f"open a network connection to '{listeners[2].address}' (a local socket outside the sandbox)")
    if dns:
        assert_refused(result,
                       "look up the address of 'example.com' (DNS): the lab has no network but its AWS endpoint",
                       "look up the address of 'pypi.org' (DNS)")


def test_only_the_labs_endpoint_can_be_reached(tmp_path, listeners):
    dns = isolation() != "process"  # CI may force the fallback for the whole suite
    assert_no_connection(grade_lab(tmp_path, network_source(listeners, dns=dns)), listeners, dns=dns)


def test_only_the_labs_endpoint_can_be_reached_in_the_process_only_fallback(tmp_path, listeners, monkeypatch):
    process_only(monkeypatch)
    assert_no_connection(grade_lab(tmp_path, network_source(listeners, dns=False)), listeners, dns=False)


# --- 12. the grader's secrets -----------------------------------------------------------------------

SECRETS = {"MLALAB_SIGNING_KEY": "signing-key-3f9a61c0", "GITHUB_TOKEN": "ghp_adversarialtoken0123456789",
           "AWS_SECRET_ACCESS_KEY": "grader-real-aws-secret-77"}
SNOOP = HEADER + TRY + '''
def pids():
    try:
        return [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError as exc:
        print("no /proc:", exc)
        return []
def snoop():
    print(dict(os.environ))
    for pid in ["1", "self", str(os.getppid())] + pids():
        for name in ("environ", "cmdline"):
            attempt(f"/proc/{pid}/{name}", lambda: print(open(f"/proc/{pid}/{name}", "rb").read()))
    attempt("root", lambda: print(os.listdir(f"/proc/{os.getppid()}/root")))
snoop()
''' + SIGNATURE + "    snoop()\n"


@pytest.mark.parametrize("fallback", [False, True], ids=["active", "process"])
def test_the_graders_secrets_never_reach_learner_code(tmp_path, monkeypatch, fallback):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    if fallback:
        process_only(monkeypatch)
    level = isolation()
    result = grade_lab(tmp_path, SNOOP)
    assert result.score == 0
    assert "AWS_SECRET_ACCESS_KEY': 'testing'" in result.output  # the learner's own, fake credentials
    for value in SECRETS.values():
        assert value not in result.output and not any(value in p for p in result.problems)
    if level == "linux-namespaces":  # alone in its PID namespace: its parent is not even there
        assert_refused(result, "read another process's environ (/proc/0/environ)")
    else:  # the grader is this process's parent: refused by name (and in chroot-seccomp, /proc is absent)
        assert_refused(result, "read another process's environ (/proc/")
    assert ("no /proc: [Errno 2] No such file or directory: '/proc'" in result.output) == (level == "chroot-seccomp")
