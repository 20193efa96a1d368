"""The learner's side of the fence: imports the learner's file and calls its functions.

Run by ``runner`` as ``python -I child.py`` with a job (JSON on stdin) that names the learner's file
and the calls to make. It reports each step as one JSON line on the event pipe. Everything it
reports is *untrusted*: learner code runs in this process and could forge events, so the grader
uses events only to explain a failure, never to award a point.

Standard library only until the learner's module imports boto3 itself.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import json
import os
import resource
import socket
import sys
import threading
import traceback

EVENTS = None  # the event pipe, opened in main()
MAX_REPR = 300


def emit(**event: object) -> None:
    try:
        EVENTS.write(json.dumps(event, default=str) + "\n")
        EVENTS.flush()
    except Exception:  # the learner may have closed or filled the pipe; never crash on it
        pass


# --- the network bridge (Linux namespaces only) ------------------------------------------------


def _pipe(a: socket.socket, b: socket.socket) -> None:
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


def start_bridge(unix_path: str) -> int:
    """Listen on loopback inside this network namespace and forward to the grader's moto server.

    The namespace has no route anywhere; the only way out is this Unix socket, which the grader
    serves and connects to its moto server and nothing else.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(unix_path)
            threading.Thread(target=_pipe, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()

    threading.Thread(target=serve, daemon=True, name="mlalab-bridge").start()
    return listener.getsockname()[1]


# --- the audit hook: clear messages for what the sandbox forbids --------------------------------

BLOCKED_IMPORTS = {"ctypes", "_ctypes", "cffi", "_cffi_backend"}
BLOCKED_EVENTS = {
    "os.system": "run a shell command",
    "os.fork": "fork a child process",
    "os.forkpty": "fork a child process",
    "os.exec": "replace the process (exec)",
    "os.posix_spawn": "spawn a process",
    "os.spawn": "spawn a process",
    "subprocess.Popen": "start a subprocess",
    "os.kill": "send a signal to a process",
    "os.killpg": "send a signal to a process group",
}


def install_audit_hook(allowed_port: int, blocked_paths: list[str], unix_path: str | None) -> None:
    """Refuse, with a message the report can quote, what learner boto3 code never needs.

    This is the portable layer (it also runs on macOS); on Linux the kernel namespaces are the
    real boundary and this only turns a silent failure into an explanation.
    """

    def refuse(what: str) -> None:
        emit(event="violation", what=what)
        raise PermissionError(f"mla-labs sandbox: your code tried to {what}; lab code may only call AWS "
                              "through boto3 against the lab's endpoint")

    def hook(event: str, args: tuple) -> None:
        if event == "import" and args[0] in BLOCKED_IMPORTS:
            refuse(f"import {args[0]} (native code can escape the sandbox)")
        elif event in BLOCKED_EVENTS:
            refuse(BLOCKED_EVENTS[event])
        elif event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and address[:2] in {("127.0.0.1", allowed_port),
                                                               ("localhost", allowed_port)}:
                return
            if isinstance(address, str) and address == unix_path:
                return
            refuse(f"open a network connection to {address!r}")
        elif event == "open" and isinstance(args[0], str):
            path = os.path.realpath(args[0])
            if any(path == p or path.startswith(p + os.sep) for p in blocked_paths):
                refuse(f"read {args[0]} (the reference solutions are not part of your submission)")

    sys.addaudithook(hook)


# --- running the learner's code -----------------------------------------------------------------


def learner_frame(tb, module_path: str) -> dict | None:
    """The deepest traceback frame in the learner's own file: where *their* code went wrong."""
    found = None
    for frame in traceback.extract_tb(tb):
        if os.path.realpath(frame.filename) == module_path:
            found = {"line": frame.lineno, "code": (frame.line or "").strip()}
    return found


def describe_exception(exc: BaseException, module_path: str) -> dict:
    info: dict = {"type": type(exc).__name__, "message": str(exc)[:2000], "where": None}
    info["where"] = learner_frame(exc.__traceback__, module_path)
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:  # botocore ClientError
        info["aws_code"] = str(response["Error"].get("Code", ""))
        info["aws_message"] = str(response["Error"].get("Message", ""))[:2000]
        info["operation"] = str(getattr(exc, "operation_name", ""))
    if isinstance(exc, SystemExit):
        info["message"] = f"sys.exit({exc.code!r})"
    return info


def import_learner(module_path: str, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def call_one(module, call: dict, module_path: str) -> None:
    name = call["function"]
    fn = getattr(module, name, None)
    if not callable(fn):
        defined = [n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")]
        emit(event="call", function=name, status="missing", defined=defined,
             close=difflib.get_close_matches(name, defined, n=1))
        return
    try:
        signature = inspect.signature(fn)
        signature.bind(**call["kwargs"])
    except TypeError as exc:
        emit(event="call", function=name, status="signature", found=f"{name}{signature}", error=str(exc))
        return
    except ValueError:
        signature = None
    emit(event="start", function=name)
    try:
        value = fn(**call["kwargs"])
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are learner mistakes too
        status = "not_implemented" if isinstance(exc, NotImplementedError) else "raised"
        emit(event="call", function=name, status=status, error=describe_exception(exc, module_path))
        return
    text = repr(value)
    emit(event="call", function=name, status="ok", returned=text[:MAX_REPR])


def set_limits(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024 * 1024, 32 * 1024 * 1024))


def main() -> None:
    global EVENTS
    job = json.loads(sys.stdin.read())
    EVENTS = os.fdopen(job["event_fd"], "w", buffering=1)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the learner's code gets no input

    if job.get("unix_socket"):
        port = start_bridge(job["unix_socket"])
    else:
        port = job["port"]
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    install_audit_hook(port, [os.path.realpath(p) for p in job["blocked_paths"]], job.get("unix_socket"))
    set_limits(job["memory_mb"])

    module_path = os.path.realpath(job["module_path"])
    sys.path.insert(0, os.path.dirname(module_path))
    emit(event="ready")
    try:
        module = import_learner(module_path, job["module_name"])
    except SyntaxError as exc:
        emit(event="import", status="syntax", error={"type": type(exc).__name__, "message": exc.msg,
                                                     "line": exc.lineno, "offset": exc.offset,
                                                     "code": (exc.text or "").rstrip()})
        return
    except BaseException as exc:  # noqa: BLE001
        emit(event="import", status="raised", error=describe_exception(exc, module_path))
        return
    emit(event="import", status="ok")
    for call in job["calls"]:
        call_one(module, call, module_path)
    emit(event="done")


if __name__ == "__main__":
    try:
        main()
    except MemoryError:
        emit(event="memory")
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(0)  # skip the learner's atexit handlers and lingering threads
