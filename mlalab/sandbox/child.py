"""The learner's side of the fence: imports the learner's file and calls its functions.

Run by ``process.LearnerProcess`` as ``python -I child.py`` with a job (one JSON line on stdin)
that names the learner's file, the calls to make and the grader's packages (refused on import).
It reports each step as one JSON line on the event pipe. Everything it reports is *untrusted*:
learner code runs in this process and could forge events, so the grader uses events only
to explain a failure, never to award a point.

The process starts before the grader has built the lab's scenario: it imports boto3 (trusted
library code, before the audit hook exists) and then waits for its job on stdin, so its start-up
overlaps with the grader's work. See docs/security.md for what the audit hook below adds to the
Linux sandbox, and what it is worth on its own.
"""

from __future__ import annotations

import _imp
import _posixsubprocess
import _socket
import ast
import base64
import difflib
import importlib.util
import inspect
import json
import os
import resource
import socket
import stat
import subprocess
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

# The grader's own packages: importing them here changes nothing in the grader (another process),
# so an attempt is a cheat attempt and is named as one.
# The graders packages (mlalab.course.GRADER_ONLY_IMPORTS, sent in the job: this file must not import mlalab).
GRADER_PACKAGES: frozenset[str] = frozenset()
# Modules that would take learner code around everything below, and why.
_NATIVE = "native code can escape the sandbox"
_UNCHECKED = "it runs code without the sandbox's checks"
_FILES = "it reads files without the sandbox's checks"
RISKY_MODULES = {
    **dict.fromkeys(("ctypes", "_ctypes", "_ctypes_test", "cffi", "_cffi_backend"), _NATIVE),
    **dict.fromkeys(("_xxsubinterpreters", "_xxinterpchannels", "_interpreters", "_interpchannels",
                     "_interpqueues", "_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase",
                     "_testsinglephase", "_testimportmultiple", "_testclinic", "_xxtestfuzz"), _UNCHECKED),
    **dict.fromkeys(("readline", "_dbm", "_gdbm", "_sqlite3"), _FILES),
    # loaded (and disarmed) before learner code: a second copy would be a way around that
    "_posixsubprocess": "it starts processes without the sandbox's checks",
}
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
    "cpython.PyInterpreterState_New": "start a second Python interpreter (it would run without the sandbox's "
                                      "checks)",
    "gc.get_objects": "search the interpreter's memory (gc.get_objects)",
    "gc.get_referrers": "search the interpreter's memory (gc.get_referrers)",
    "gc.get_referents": "search the interpreter's memory (gc.get_referents)",
    # numpy (preloaded in warm_up) keeps a reference to ctypes: what ctypes could do with it is refused.
    **dict.fromkeys(("ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function", "ctypes.cdata",
                     "ctypes.cdata/buffer", "ctypes.addressof", "ctypes.string_at", "ctypes.wstring_at",
                     "ctypes.PyObj_FromPtr"),
                    "use ctypes (native code can escape the sandbox)"),
}
# Events that change the file system, and which of their arguments are the paths they change.
FILE_CHANGES = {
    "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.symlink": (1,),
    "os.link": (0, 1), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
    "shutil.rmtree": (0,), "shutil.move": (0, 1), "shutil.copyfile": (1,), "shutil.copytree": (1,),
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
WRITABLE_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/full"})


def install_audit_hook(allowed_port: int, blocked_paths: list[str], unix_path: str | None, home: str,
                       kernel_enforced: bool) -> None:
    """Refuse, with a message the report can quote, what learner boto3 code never needs.

    This is the portable layer (it also runs on macOS); on Linux the kernel namespaces are the
    real boundary and this only turns a silent failure into an explanation. Writes outside the
    sandbox folder are therefore only *reported* there (the kernel refuses them: read-only or
    missing), and refused here in the process-only fallback.

    The hook is written against learner code in the same interpreter: it keeps its own references
    to every function and constant it uses (patching ``os.path``, ``builtins`` or this module does
    not change it), reads arguments through the built-in types' own methods (a ``str`` or ``tuple``
    subclass cannot show it one value and the kernel another), and is reachable from nowhere but
    the interpreter's hook list (``gc`` searches are refused).
    """
    _str, _bytes, _tuple, _int, _isinstance, _len, _any, _all = str, bytes, tuple, int, isinstance, len, any, all
    _socket_type = _socket.socket
    _family = _socket_type.__dict__["family"].__get__  # the C-level value, not a subclass's property
    _str_add, _bytes_add, _tuple_item = str.__add__, bytes.__add__, tuple.__getitem__
    _lstat, _readlink, _getcwd, _getpid, _S_ISLNK = os.lstat, os.readlink, os.getcwd, os.getpid, stat.S_ISLNK
    _PermissionError, _OSError, _emit = PermissionError, OSError, emit
    _grader, _risky, _blocked_events, _changes = GRADER_PACKAGES, dict(RISKY_MODULES), dict(BLOCKED_EVENTS), \
        dict(FILE_CHANGES)
    _write_flags, _devices = WRITE_FLAGS, WRITABLE_DEVICES
    _dir_flags = getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_PATH", 0)
    _stat, _S_ISDIR = os.stat, stat.S_ISDIR
    _blocked = tuple(blocked_paths)
    # ...and their compiled copies (__pycache__/solution.cpython-311.pyc) where an import left them.
    _blocked_cache = tuple(os.path.join(os.path.dirname(p), "__pycache__", os.path.basename(p)[:-3] + ".")
                           for p in blocked_paths if p.endswith(".py"))
    _home = home.rstrip("/")
    _trusted_native = tuple(p.rstrip("/") + "/" for p in {os.path.realpath(p) for p in (
        sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)} if p != "/")
    _AF_INET, _AF_INET6, _AF_UNIX = socket.AF_INET, socket.AF_INET6, socket.AF_UNIX

    def refuse(what):
        _emit(event="violation", what=what)
        raise _PermissionError(f"mla-labs sandbox: your code tried to {what}; lab code may only call AWS "
                               "through boto3 against the lab's endpoint")

    def text(value):
        """A path or host exactly as the kernel will see it, or None."""
        if _isinstance(value, _str):
            return _str_add("", value)
        if _isinstance(value, _bytes):
            return _bytes.decode(_bytes_add(b"", value), "utf-8", "surrogateescape")
        return None

    def resolve(path):
        """realpath() from private references: symlinks followed, missing parts kept as written."""
        resolved, hops = "", 0
        if not path.startswith("/"):
            resolved = _getcwd().rstrip("/")  # the kernel's answer is already free of links
        pending = [part for part in path.split("/") if part][::-1]
        while pending:
            name = pending.pop()
            if name == ".":
                continue
            if name == "..":
                resolved = resolved[: resolved.rfind("/")]
                continue
            candidate = resolved + "/" + name
            try:
                is_link = _S_ISLNK(_lstat(candidate).st_mode)
            except _OSError:
                is_link = False
            if is_link and hops < 40:
                hops += 1
                target = _readlink(candidate)
                if target.startswith("/"):
                    resolved = ""
                pending.extend([part for part in target.split("/") if part][::-1])
                continue
            resolved = candidate
        return resolved or "/"

    def is_dir(path):
        try:
            return _S_ISDIR(_stat(path).st_mode)
        except _OSError:
            return False

    def under(path, prefix):
        return path == prefix or path.startswith(prefix + "/")

    def writable(path):
        own_fds = f"/proc/{_getpid()}/fd"
        return under(path, _home) or path in _devices or under(path, own_fds)

    def check_write(path_arg, verb):
        path = text(path_arg)
        if path is None:
            return  # a file descriptor: already open
        real = resolve(path)
        if writable(real):
            return
        shown = path if real == path else f"{path} (which is {real})"
        what = f"{verb} {shown} (only files in its own sandbox folder can be changed)"
        if kernel_enforced:
            _emit(event="violation", what=what)  # the kernel refuses it; we only say so
        else:
            refuse(what)

    def check_proc(real, path):
        if not under(real, "/proc"):
            return
        parts = real.split("/")
        if _len(parts) > 2 and parts[2].isdigit() and parts[2] != _str(_getpid()):
            refuse(f"read another process's {'/'.join(parts[3:]) or 'details'} ({path})")
        if _len(parts) > 3 and parts[-1] == "mem":
            refuse(f"open process memory ({path})")

    def literal_address(host):
        """An IP address written out: resolving it asks no DNS server."""
        if not _isinstance(host, _str) or not host:
            return False
        parts = host.split(".")
        if _len(parts) == 4 and _all(p.isdigit() and _len(p) <= 3 for p in parts):
            return True
        return ":" in host and _all(c in "0123456789abcdefABCDEF:." for c in host)

    def loopback_host(host):
        if host is None or host == "localhost" or host == "::1":
            return True
        parts = host.split(".") if _isinstance(host, _str) else []
        return _len(parts) == 4 and parts[0] == "127" and _all(p.isdigit() for p in parts)

    def check_address(sock, address, verb):
        if address is None:
            return  # a connected socket: its connect() was checked
        family = _family(sock) if _isinstance(sock, _socket_type) else None
        if _isinstance(address, (_str, _bytes)):
            where = text(address)
            if unix_path is not None and where == unix_path:
                return
            refuse(f"{verb} {where!r} (a local socket outside the sandbox)")
        if _isinstance(address, _tuple) and _tuple.__len__(address) >= 2:
            host, port = text(_tuple_item(address, 0)), _tuple_item(address, 1)
            port = _int.__add__(0, port) if _isinstance(port, _int) else None
            if family == _AF_INET and host in ("127.0.0.1", "localhost") and port == allowed_port:
                return
            refuse(f"{verb} {(host, port)!r} (only the lab's AWS endpoint can be reached)")
        refuse(f"{verb} {address!r}")

    def hook(event, args):
        if event == "import":
            name = text(args[0]) or ""
            parts = name.split(".")
            if parts[0] in _grader:
                refuse(f"import the grader ({parts[0]}): the checks run in a separate process that your code "
                       "cannot reach or change, and they only read the AWS state your functions leave behind")
            for part in parts:
                if part in _risky:
                    refuse(f"import {part} ({_risky[part]})")
            filename = text(args[1]) if _len(args) > 1 else None
            if filename is not None and filename.endswith((".so", ".pyd", ".dylib")):
                real = resolve(filename)
                if under(real, _home) or not real.startswith(_trusted_native):
                    refuse(f"load native code from {filename} (only the Python installation's own modules "
                           "may be loaded)")
        elif event in _blocked_events:
            refuse(_blocked_events[event])
        elif event == "open":
            path = text(args[0])
            if path is None:
                return
            real = resolve(path)
            if _any(under(real, p) for p in _blocked) or real.startswith(_blocked_cache):
                refuse(f"read {path} (the reference solutions are not part of your submission)")
            check_proc(real, path)
            flags = args[2] if _len(args) > 2 and _isinstance(args[2], _int) else 0
            mode = text(args[1]) if _len(args) > 1 else None
            if flags & _write_flags or (mode is not None and _any(c in mode for c in "wax+")):
                check_write(path, "write to")
            elif not kernel_enforced and not writable(real) and (flags & _dir_flags or is_dir(real)):
                # A folder's descriptor would let os.open(..., dir_fd=) write relative to it, out of sight.
                refuse(f"open the folder {path} (only its own sandbox folder can be opened as a folder)")
        elif event in _changes:
            for index in _changes[event]:
                if _len(args) > index:
                    check_write(args[index], "change")
        elif event == "socket.connect":
            check_address(args[0], args[1], "open a network connection to")
        elif event in ("socket.sendto", "socket.sendmsg"):
            check_address(args[0], args[1], "send network data to")
        elif event == "socket.bind":
            # Loopback only (urllib3 probes IPv6 support by binding ("::1", 0)); never a public address.
            address = args[1]
            host = text(_tuple_item(address, 0)) if _isinstance(address, _tuple) and address else None
            if not (_isinstance(args[0], _socket_type) and _family(args[0]) == _AF_UNIX) \
                    and (host is None or not loopback_host(host)):
                refuse(f"listen for network connections on {address!r}")
        elif event == "socket.__new__":
            if _len(args) > 1 and args[1] not in (_AF_INET, _AF_INET6, _AF_UNIX, -1):
                refuse("open a raw or special network socket")
        elif event == "socket.getaddrinfo" or event == "socket.gethostbyname":
            host = text(args[0]) if args[0] is not None else None
            if not (loopback_host(host) or literal_address(host)):
                refuse(f"look up the address of {host!r} (DNS): the lab has no network but its AWS endpoint")
        elif event == "socket.gethostbyaddr" or event == "socket.getnameinfo":
            target = args[0]
            host = text(_tuple_item(target, 0)) if _isinstance(target, _tuple) and target else text(target)
            if not loopback_host(host):
                refuse(f"look up the name of {host!r} (DNS): the lab has no network but its AWS endpoint")

    sys.addaudithook(hook)

    # subprocess's fork_exec raises no audit event of its own (subprocess.Popen does, before it):
    # disarm it, so that calling it directly is refused like every other way to start a process.
    def fork_exec(*args, **kwargs):
        refuse("start a subprocess (fork_exec)")

    _posixsubprocess.fork_exec = fork_exec
    subprocess._fork_exec = fork_exec

    # An extension module already loaded in this process (_ctypes, by numpy's preload or the fork
    # server's jail set-up) is handed out again by _imp.create_dynamic without an "import" audit event,
    # so importlib.util.module_from_spec(find_spec("_ctypes")) would get it unannounced: refuse it here.
    # (The original stays reachable through this closure; it audits every module not loaded yet.)
    create_dynamic = _imp.create_dynamic

    def create_dynamic_checked(spec, *rest):
        for part in (text(getattr(spec, "name", None)) or "").split("."):
            if part in _risky:
                refuse(f"import {part} ({_risky[part]})")
        return create_dynamic(spec, *rest)

    _imp.create_dynamic = create_dynamic_checked


# --- running the learner's code -----------------------------------------------------------------


def learner_frame(tb, module_path: str) -> dict | None:
    """The deepest traceback frame in the learner's own file: where *their* code went wrong."""
    found = None
    for frame in traceback.extract_tb(tb):
        if os.path.realpath(frame.filename) == module_path:
            found = {"line": frame.lineno, "code": (frame.line or "").strip()}
    return found


def _text(value: object, limit: int = 2000) -> str:
    """str() of a learner object, which may itself raise or be huge."""
    try:
        return str(value)[:limit]
    except BaseException:  # noqa: BLE001 - a learner __str__ may raise anything
        return "(could not be shown)"


def describe_exception(exc: BaseException, module_path: str) -> dict:
    info: dict = {"type": type(exc).__name__, "message": _text(exc), "where": None}
    try:
        if isinstance(exc, MemoryError):
            traceback.clear_frames(exc.__traceback__)  # free what the learner's frames held first
        info["where"] = learner_frame(exc.__traceback__, module_path)
        response = getattr(exc, "response", None)
        if isinstance(response, dict) and isinstance(response.get("Error"), dict):  # botocore ClientError
            info["aws_code"] = _text(response["Error"].get("Code", ""))
            info["aws_message"] = _text(response["Error"].get("Message", ""))
            info["operation"] = _text(getattr(exc, "operation_name", ""))
    except BaseException:  # noqa: BLE001 - a description must never end the run
        pass
    if isinstance(exc, SystemExit):
        info["message"] = f"sys.exit({_text(repr(exc.code), 200)})"
    return info


def import_learner(module_path: str, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def call_one(module, call: dict, module_path: str) -> None:
    name = call["function"]
    try:
        fn = getattr(module, name, None)
    except BaseException:  # noqa: BLE001 - a module __getattr__ is learner code
        fn = None
    if not callable(fn):
        defined = [n for n, v in vars(module).items()
                   if isinstance(n, str) and inspect.isfunction(v) and not n.startswith("_")]
        emit(event="call", function=name, status="missing", defined=defined,
             close=difflib.get_close_matches(name, defined, n=1))
        return
    signature = None
    try:
        signature = inspect.signature(fn)
        signature.bind(**call["kwargs"])
    except TypeError as exc:
        emit(event="call", function=name, status="signature", found=f"{name}{signature}", error=_text(exc))
        return
    except Exception:  # noqa: BLE001 - no signature to read (a builtin, a callable object)
        pass
    emit(event="start", function=name)
    try:
        value = fn(**call["kwargs"])
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are learner mistakes too
        status = "not_implemented" if isinstance(exc, NotImplementedError) else "raised"
        error = describe_exception(exc, module_path)
        del exc
        emit(event="call", function=name, status=status, error=error)
        return
    try:
        text = repr(value)
    except BaseException:  # noqa: BLE001 - a learner __repr__
        text = "(could not be shown)"
    emit(event="call", function=name, status="ok", returned=text[:MAX_REPR])


def set_limits(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024 * 1024, 32 * 1024 * 1024))


def warm_up() -> None:
    """Import boto3 while the grader is still building the scenario (we wait for the job after).

    Trusted code, before the audit hook: it is the library the learner's code imports anyway.
    """
    try:
        import boto3  # noqa: F401
        import botocore.client  # noqa: F401
    except ImportError:  # the learner's file will say what is missing
        pass


class DistinctPaths(list):
    """A loader's search paths, where appending a path already there does nothing: every boto3
    ``Session`` appends its resource folder to its session's loader, here a shared one. Also the grader's
    (``server._share_data_loaders``): this file cannot import mlalab, so the one copy lives here."""

    def append(self, path) -> None:
        if path not in self:
            super().append(path)


def share_data_loader() -> None:
    """Give every botocore session of this process one data loader (per data path), so that service
    models loaded ahead (by the fork server, before any learner code) serve the learner's sessions
    too: botocore gives each session its own loader, which decodes the models again. The models are
    read-only data; what a client does with them is unchanged."""
    try:
        import botocore.session
        from botocore import loaders
    except ImportError:
        return
    made: dict = {}

    def create_loader(search_path_string=None):
        if search_path_string not in made:
            paths = [] if search_path_string is None else [
                os.path.expanduser(os.path.expandvars(p)) for p in search_path_string.split(os.pathsep)]
            made[search_path_string] = loaders.Loader(extra_search_paths=DistinctPaths(paths))
        return made[search_path_string]

    botocore.session.create_loader = create_loader


# Libraries that import ctypes for their own use (numpy; pandas and scipy under the SageMaker SDK): imported
# before the audit hook, and only for a learner file that imports them (the SDK costs ~1.3 s, so only its
# users pay it). ctypes is then dropped from sys.modules again, so a learner's own `import ctypes`
# still meets the audit hook, and what ctypes can do through the libraries' reference is refused
# (BLOCKED_EVENTS).
PRELOADS = {
    "numpy": ("numpy",),
    "sagemaker": ("sagemaker.core.helper.session_helper", "sagemaker.core.model_monitor"),
}


def imported_roots(path: str) -> set[str]:
    """The top-level packages the learner's file imports (read with ast, never run: trusted code)."""
    try:
        with open(path, "rb") as handle:
            return roots_imported_by(handle.read())
    except OSError:
        return set()  # the import will report the problem to the learner


def roots_imported_by(source: str | bytes) -> set[str]:
    """The top-level packages ``source`` imports (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def preload_for(path: str) -> None:
    """Import the ctypes-using libraries the learner's file imports, then drop ctypes again."""
    preload_roots(imported_roots(path))


def preload_roots(roots: set[str]) -> None:
    """Import the :data:`PRELOADS` of ``roots``, then drop ctypes again. Also the fork server's, for the
    libraries its labs' files import (every forked learner then has them as one that imports them would)."""
    wanted = [m for root in sorted(roots & PRELOADS.keys()) for m in PRELOADS[root]]
    for module in wanted:
        try:
            importlib.import_module(module)
        except Exception:  # not installed, or broken: the learner's own import says so
            break
    for name in [n for n in sys.modules if n == "ctypes" or n.startswith("ctypes.") or n == "_ctypes"]:
        del sys.modules[name]


def load_sibling(name: str):
    """A module of this folder, by path (``-I`` leaves this folder off sys.path, and the learner's
    code must not find it there either)."""
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location(f"_mlalab_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    global EVENTS, GRADER_PACKAGES
    warm_up()
    job = json.loads(sys.stdin.readline())
    if "module_source" in job:  # started ahead of its submission (warm grading): the file comes with the job
        with open(job["module_path"], "wb") as handle:
            handle.write(base64.b64decode(job["module_source"]))
    if job.get("module_path"):
        preload_for(job["module_path"])
    GRADER_PACKAGES = frozenset(job["grader_packages"])
    EVENTS = os.fdopen(job["event_fd"], "w", buffering=1)
    jobs = sys.stdin  # a Lambda function's invocations arrive here, one line each
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the learner's code gets no input
    # A Lambda handler: the runtime next to this file (trusted, loaded before the audit hook).
    lambda_runtime = load_sibling("lambda_runtime") if job.get("lambda") is not None else None

    if job.get("unix_socket"):
        # boto3's own connections go straight to the bridge's socket: in chroot-seccomp there is no TCP at all;
        # in the namespace jail no relay of ours sits in between
        load_sibling("unix_http").route(job["unix_socket"])
    if job.get("unix_socket") and job.get("isolation") != "chroot-seccomp":
        port = start_bridge(job["unix_socket"])  # any other client of the endpoint's address meets this relay
    else:
        port = job["port"]
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    module_path = os.path.realpath(job["module_path"])
    home = os.path.realpath(job.get("home") or os.path.dirname(module_path))
    install_audit_hook(port, [os.path.realpath(p) for p in job["blocked_paths"]], job.get("unix_socket"), home,
                       kernel_enforced=job.get("isolation") == "linux-namespaces")
    set_limits(job["memory_mb"])
    if lambda_runtime is not None:
        lambda_runtime.serve(job, jobs, emit)
        return

    sys.path.insert(0, os.path.dirname(module_path))
    emit(event="ready")
    try:
        module = import_learner(module_path, job["module_name"])
    except SyntaxError as exc:
        emit(event="import", status="syntax", error={"type": type(exc).__name__, "message": _text(exc.msg),
                                                     "line": exc.lineno, "offset": exc.offset,
                                                     "code": _text(exc.text or "").rstrip()})
        return
    except BaseException as exc:  # noqa: BLE001
        status = "exit" if isinstance(exc, SystemExit) else "raised"
        error = describe_exception(exc, module_path)
        del exc
        emit(event="import", status=status, error=error)
        return
    emit(event="import", status="ok")
    for call in job["calls"]:
        call_one(module, call, module_path)
    emit(event="done")


def run() -> None:
    """The whole life of the learner's process: ``main``, then an exit that no learner code can delay
    (run as ``__main__``, or by the fork server in each child it forks)."""
    _exit = os._exit  # our own reference: learner code may replace os._exit
    try:
        main()
    except MemoryError:
        emit(event="memory")
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the learner may have replaced or closed them
                pass
        _exit(0)  # skip the learner's atexit handlers and lingering threads


if __name__ == "__main__":
    run()
