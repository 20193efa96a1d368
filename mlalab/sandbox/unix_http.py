"""boto3 over the bridge's Unix socket (loaded by ``child.py``, in both jails).

In ``chroot-seccomp``, the learner's process shares the machine's network namespace, so its seccomp
filter refuses every socket but ``AF_UNIX``: no TCP at all, to anywhere. In ``linux-namespaces``, TCP
to the endpoint's loopback address would reach a relay of the learner's own process that copies to the
same socket: going straight there spares each call a connection and two threads (the relay stays for
any other client). botocore speaks HTTP through urllib3, whose connections are opened in one place
(``HTTPConnection._new_conn``); this routes that place to the bridge's socket, which the grader serves
(``bridge.py``). Trusted code, run before the
audit hook and the learner's code; the URL (``http://127.0.0.1:<port>``) is kept, only the
transport changes.
"""

from __future__ import annotations

import socket


def route(unix_path: str) -> None:
    """Every urllib3 (hence botocore) HTTP connection of this process goes to ``unix_path``."""
    import urllib3.connection

    _socket, _family, _stream = socket.socket, socket.AF_UNIX, socket.SOCK_STREAM

    def _new_conn(self):  # noqa: ANN001, ANN202 - urllib3's signature
        sock = _socket(_family, _stream)
        timeout = self.timeout
        if isinstance(timeout, (int, float)):
            sock.settimeout(timeout)
        try:
            sock.connect(unix_path)
        except OSError as exc:
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"Failed to reach the lab's AWS: {exc}") from exc
        return sock

    urllib3.connection.HTTPConnection._new_conn = _new_conn
