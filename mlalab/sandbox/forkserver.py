"""The grader's side of the fork server (``zygote.py``): start it, ask it for learner processes, and
hold each one through a ``subprocess.Popen``-like handle.

A warm grader owns one :class:`ForkServer`; ``process.spawn_child`` forks through it when given one and
starts ``python child.py`` the ordinary way otherwise (cold gradings, Lambda handlers, macOS). Either
way the learner's process is the same: same isolation, same descriptors, same environment, same
``child.py``; only the ~0.16 s of interpreter start and ``boto3`` import, and the service models'
loading, are paid once per server instead of once per process. A server that died or misbehaves is
reported by :meth:`ForkServer.spawn` raising :class:`ForkServerGone`, and the caller starts the
process the ordinary way.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from mlalab.sandbox.jail_command import HERE, child_environment

READY_TIMEOUT = 60.0
ANSWER_TIMEOUT = 30.0
MAX_MESSAGE = 1 << 16


class ForkServerGone(OSError):
    """The fork server is not there (exited, killed, never became ready) or refused a request."""


class ForkServer:
    """One ``zygote.py`` process, warm with ``boto3`` and the models of ``services``."""

    def __init__(self, services: list[str] | tuple[str, ...] = (), libraries: list[str] | tuple[str, ...] = (), *,
                 wait_ready: bool = True) -> None:
        """``libraries``: roots of ``child.PRELOADS`` to import ahead, as for a learner file importing them;
        ``wait_ready``: whether a process asked for before the server is warm waits for it (False: it is
        started the ordinary way meanwhile, by :func:`launch`)."""
        self.wait_ready = wait_ready
        if sys.platform != "linux":
            raise ForkServerGone("the fork server needs Linux")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-u", str(HERE / "zygote.py"), str(theirs.fileno()), ",".join(services),
                 ",".join(libraries)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), cwd="/", env=child_environment(Path("/nonexistent")),
                start_new_session=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.dead = False
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self._answers: dict[int, dict] = {}
        self._exits: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True, name="mlalab-forkserver").start()

    def _read(self) -> None:
        try:
            while message := self.sock.recv(MAX_MESSAGE):
                answer = json.loads(message)
                with self._changed:
                    if answer.get("ready"):
                        self._ready.set()
                    elif "exit" in answer:
                        self._exits[int(answer["exit"])] = int(answer["code"])
                    elif "id" in answer:
                        self._answers[int(answer["id"])] = answer
                    self._changed.notify_all()
        except (OSError, ValueError):
            pass
        with self._changed:
            self.dead = True
            self._ready.set()
            self._changed.notify_all()

    def alive(self) -> bool:
        return not self.dead and self.proc.poll() is None

    def ready(self, timeout: float | None = None) -> bool:
        """Warm (waiting at most ``timeout`` seconds for it) and alive."""
        return self._ready.wait(timeout) and self.alive()

    def usable(self) -> bool:
        """Alive, and warm or worth waiting for (``wait_ready``)."""
        return self.alive() and (self.wait_ready or self._ready.is_set())

    def spawn(self, request: dict, event_fd: int) -> ForkedProcess:
        """A learner process made from ``request`` (``zygote.py``'s protocol: isolation, cwd, env and the
        isolation's spec), with fresh stdin and stdout pipes and ``event_fd`` as its event pipe."""
        if not self.ready(READY_TIMEOUT):
            raise ForkServerGone("the fork server is not running")
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        ours = [stdin_w, stdout_r]
        try:
            number = next(self._ids)
            message = json.dumps({**request, "id": number, "event_fd": event_fd}).encode()
            with self._send_lock:
                socket.send_fds(self.sock, [message], [stdin_r, stdout_w, event_fd])
            with self._changed:
                if not self._changed.wait_for(lambda: number in self._answers or self.dead, ANSWER_TIMEOUT):
                    raise ForkServerGone("the fork server did not answer")
                answer = self._answers.pop(number, None)
            if answer is None or "pid" not in answer:
                raise ForkServerGone(f"the fork server refused: {(answer or {}).get('error', 'it exited')}")
            process = ForkedProcess(self, int(answer["pid"]), os.fdopen(stdin_w, "wb"), os.fdopen(stdout_r, "rb"))
            ours = []
            return process
        except OSError as exc:
            if not isinstance(exc, ForkServerGone):
                raise ForkServerGone(f"the fork server is unreachable: {exc}") from exc
            raise
        finally:
            for fd in (stdin_r, stdout_w, *ours):
                os.close(fd)

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        """The process's exit code once the server reaped it (waiting at most ``timeout``); -9 if the
        server died first (the process was then killed with its group)."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits or self.dead, timeout)
            if pid in self._exits:
                return self._exits.pop(pid)
            if self.dead:  # unreaped, and so still that pid, only if the server died first
                _kill_group(pid)
                return -signal.SIGKILL
            return None

    def close(self) -> None:
        """Stop the server: it kills whatever it forked that still runs, then exits."""
        self.dead = True
        try:  # shutdown, not just close: the reader thread's recv holds the socket open until it returns
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ForkedProcess:
    """What ``process.LearnerProcess`` and ``kill_group`` use of a ``subprocess.Popen``, for a process
    the fork server forked (its parent is the server, which reports its exit)."""

    def __init__(self, server: ForkServer, pid: int, stdin, stdout) -> None:
        self.server, self.pid, self.stdin, self.stdout = server, pid, stdin, stdout
        self.args = f"<forked learner process {pid}>"
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            _kill_group(self.pid)

    def communicate(self, timeout: float | None = None) -> tuple[bytes, None]:
        self.stdin.close()
        out = self.stdout.read()
        self.wait(timeout)
        return out, None


_SHARED: list[ForkServer] = []
_SHARED_LOCK = threading.Lock()


def shared_fork_server() -> ForkServer | None:
    """With ``MLALAB_FORK_SERVER=always``, one fork server for every learner process of this process,
    warm gradings or not: how the test suite runs its hostile submissions through the fork server."""
    if os.environ.get("MLALAB_FORK_SERVER") != "always":
        return None
    with _SHARED_LOCK:
        if not _SHARED or not _SHARED[0].alive():
            _SHARED[:] = [ForkServer()]
        return _SHARED[0]


def launch(argv: list[str], request: dict, event_fd: int, forks: ForkServer | None):
    """Start a learner (or Lambda handler) process: forked by ``forks`` when there is one and it is
    alive, else ``argv`` the ordinary way. ``request`` is the fork server's request (its ``cwd`` and
    ``env`` are also the ordinary start's); the result is a ``Popen`` or a :class:`ForkedProcess`."""
    if forks is not None and event_fd >= 0 and forks.usable():
        try:
            return forks.spawn(request, event_fd)
        except ForkServerGone:
            pass  # the ordinary way below: slower, the same process
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=request["cwd"], env=request["env"], pass_fds=(event_fd,) if event_fd >= 0 else (),
                            start_new_session=True)


def _kill_group(pid: int) -> None:
    """The process and its group (it may not have made its group yet: ``setsid`` is its first step)."""
    for kill in (os.kill, os.killpg):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass
