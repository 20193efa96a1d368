"""The Linux sandbox's only way out: a Unix socket to the lab's moto server.

The jail has a network namespace of its own (no route anywhere); ``child.py`` routes boto3's
connections to this socket, which sits in a folder the jail shows read-only, and listens on its
loopback for any other client, forwarding to the same socket.

Each connection is served here, in the grader's process, by the HTTP server of the lab's moto port
when that server runs in this process (:func:`serve_directly`, which ``LabServer`` calls): its own
request handler (moto's ``MotoRequestHandler``) reads the request from the Unix connection and calls
the same app, as if it had arrived on the port. Otherwise (a port served elsewhere) the connection is
spliced to the port. Serving directly spares each request a loopback TCP connection and the two
threads that copied bytes between them (a learner's call opens a connection each time: werkzeug
closes it after every response).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

MAX_BRIDGE_CONNECTIONS = 64  # concurrent connections from the sandbox to the lab's AWS
# What a request served directly reports as its peer: the loopback address it would have come from
# (the grader's in-process transport reports the same, ``mlalab.transport``).
PEER = ("127.0.0.1", 0)
_DIRECT: dict[int, Any] = {}  # port -> the HTTP server (werkzeug's) serving it in this process
_DIRECT_LOCK = threading.Lock()


def serve_directly(port: int, server: Any) -> None:
    """Serve bridged connections to ``port`` with ``server`` (a ``socketserver`` server of this process
    listening there: its ``RequestHandlerClass`` handles each connection)."""
    with _DIRECT_LOCK:
        _DIRECT[port] = server


def stop_serving_directly(port: int, server: Any) -> None:
    with _DIRECT_LOCK:
        if _DIRECT.get(port) is server:
            del _DIRECT[port]


def _direct_server(port: int) -> Any:
    with _DIRECT_LOCK:
        return _DIRECT.get(port)


class UnixBridge:
    """Serves a Unix socket and splices each connection to the moto port (at most
    MAX_BRIDGE_CONNECTIONS at a time: learner code cannot make the grader start threads without end)."""

    def __init__(self, path: str, port: int) -> None:
        self.path, self.port = path, port
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.sock.listen(64)
        self.closed = False
        self.slots = threading.BoundedSemaphore(MAX_BRIDGE_CONNECTIONS)
        threading.Thread(target=self._serve, daemon=True, name="mlalab-unix-bridge").start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if not self.slots.acquire(blocking=False):
                conn.close()
                continue
            server = _direct_server(self.port)
            if server is not None:
                threading.Thread(target=handle, args=(conn, server, self.slots.release), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.port))
            except OSError:
                conn.close()
                self.slots.release()
                continue
            threading.Thread(target=splice, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=splice, args=(upstream, conn, self.slots.release), daemon=True).start()

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() in _serve (close alone does not)
        except OSError:
            pass
        self.sock.close()


def handle(conn: socket.socket, server: Any, done: Callable[[], None]) -> None:
    """Serve one bridged connection with ``server``'s own steps for one of its connections
    (``socketserver``'s ``process_request_thread``: ``finish_request``, then ``shutdown_request``), then
    free its slot."""
    try:
        server.finish_request(conn, PEER)
    except Exception:  # noqa: BLE001 - a connection the learner broke off: nothing to report
        pass
    finally:
        server.shutdown_request(conn)
        done()


def splice(a: socket.socket, b: socket.socket, done: Callable[[], None] | None = None) -> None:
    """Copy ``a`` into ``b`` until either end closes; ``done`` (one per connection) frees its slot."""
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if done:
            a.close()
            b.close()
            done()
