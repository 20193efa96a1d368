"""The Linux sandbox's only way out: a Unix socket spliced to the lab's moto port.

The jail has a network namespace of its own (no route anywhere); ``child.py`` listens on its
loopback and forwards to this socket, which sits in a folder the jail shows read-only.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable

MAX_BRIDGE_CONNECTIONS = 64  # concurrent connections from the sandbox to the lab's AWS


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
