"""The fork server of warm grading: a process that pays the learner's start-up once and forks a fresh,
jailed learner process for each grading.

A learner process started the ordinary way (``process.spawn_child``) spends ~0.16 s of CPU on the
interpreter and the ``boto3`` import, and more on loading each service's model on the learner's first
client, before any learner code runs: in a batch of ten labs per submission that was a third of all
the CPU a grading used. This process does it once: it imports ``boto3`` (through ``child.py``'s
``warm_up``), loads the models of the labs' services into one shared botocore loader, imports the
libraries of the labs' starters that a learner file gets imported ahead (``child.preload_roots``: numpy,
ctypes dropped again), makes boto3's default session (``default_session``), and then only forks. Each
child becomes exactly what a cold start would have been, in this order, before any learner code exists:

1. its own session (process group) and only its own descriptors: the learner's stdin, stdout (also
   its stderr) and event pipe, received from the grader with the request (``SCM_RIGHTS``);
2. its working folder and an environment built by the grader from nothing (``child_environment``);
3. its isolation, the same steps as the cold path's, in-process instead of through ``exec``:
   ``linux-namespaces``: new user (mapping root to the grader's uid, as ``unshare --map-root-user``),
   mount (private propagation), network, PID, IPC and UTS namespaces, a fork so that the jail is PID 1
   of its namespace, ``jail.py``'s ``loopback_up`` and ``build_root``, then a nested user namespace
   without capabilities (``jail.py``'s final ``unshare --user``); ``chroot-seccomp``:
   ``chroot_stage.py``'s steps (descriptors, rlimits, ``chroot``, the learner's uid, ``no_new_privs``
   and the seccomp filter); ``process``: nothing more;
4. ``ctypes`` leaves ``sys.modules`` (the stage modules never enter it), and ``child.py`` runs as it would have.

Nothing of one learner reaches another: this process never runs learner code, never sees a
submission (the file travels in the job, on the learner's own stdin), and does not change between
forks; every child is a fresh copy of it (Python reseeds ``random`` in a forked child). The grader's
secrets never reach it: it starts with the learner's empty environment. It exits when the grader's
end of its socket closes, killing whatever it forked that still runs.

Protocol (``SOCK_SEQPACKET`` socket pair, one JSON object a message): the server answers
``{"ready": true}`` once warm. A request ``{"id": N, "isolation": ..., "cwd": ..., "env": {...},
"event_fd": FD, "jail": {...} | "stage": {...}}`` comes with three descriptors (stdin, stdout, events);
the answer is ``{"id": N, "pid": P}`` or ``{"id": N, "error": "..."}``, and once the child is gone,
``{"exit": P, "code": C}`` (``C`` as ``subprocess`` reports it: negative for a signal).

Standard library only plus what ``child.py`` imports (boto3): this file is loaded by path, never as
part of ``mlalab``, so no grader code is in the children's memory.
"""

import gc
import importlib.util
import json
import os
import select
import signal
import socket
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
PR_SET_PDEATHSIG = 1
SETUP_FAILED = 114  # the child's exit status when its isolation could not be built (no learner code ran)
MAX_MESSAGE = 1 << 20


def load(name: str):
    """A module of this folder, by path, under a private name (``-I`` keeps this folder off sys.path)."""
    spec = importlib.util.spec_from_file_location(f"_mlalab_{name}", os.path.join(HERE, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Loaded once, here: standard library only, and none imports ctypes until a forked child asks jail.libc().
CHILD, JAIL, STAGE = load("child"), load("jail"), load("chroot_stage")


# --- in the forked child -----------------------------------------------------------------------------


def libc():
    """``(ctypes, libc)``, as ``jail.py`` loads it for its mounts; ``JAIL.forget_ctypes()`` drops it again."""
    loaded = JAIL.libc()
    if loaded is None:
        raise OSError("this Python has no working ctypes: the namespaces cannot be made in-process")
    return loaded


def unshare(flags: int) -> None:
    ctypes, lib = libc()
    if lib.unshare(ctypes.c_int(flags)) != 0:
        raise OSError(ctypes.get_errno(), f"unshare({flags:#x}): {os.strerror(ctypes.get_errno())}")


def map_root_to(uid: int, gid: int) -> None:
    """What ``unshare --map-root-user`` writes: root inside is the grader's uid outside, no groups."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def make_mounts_private() -> None:
    """``unshare --propagation private``: nothing mounted here reaches the machine's namespace."""
    JAIL.mount(("mount", "--make-rprivate", "/"), "none", "/", None, MS_REC | MS_PRIVATE)


def die_with_parent() -> None:
    ctypes, lib = libc()
    lib.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def place_descriptors(fds: list[int], event_fd: int) -> None:
    """stdin, stdout and stderr (the learner's output pipe, as ``stderr=STDOUT``) and the event pipe at
    ``event_fd``; every other descriptor of this process (the server's socket) closed."""
    import fcntl

    # First above event_fd, so that no dup2 below overwrites one it still needs.
    stdin, stdout, events = (fcntl.fcntl(fd, fcntl.F_DUPFD, event_fd + 1) for fd in fds)
    os.dup2(stdin, 0)
    os.dup2(stdout, 1)
    os.dup2(stdout, 2)
    os.dup2(events, event_fd)
    os.set_inheritable(event_fd, False)
    os.closerange(3, event_fd)
    os.closerange(event_fd + 1, max(os.sysconf("SC_OPEN_MAX"), 65536))


def jail_in_namespaces(spec: dict, uid: int, gid: int) -> None:
    """``unshare --user --map-root-user --net --pid --mount --ipc --uts --fork --kill-child
    --propagation private`` then ``jail.py``, in-process. Returns in the jailed grandchild only; the
    child in between waits for it and exits with its status."""
    unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
    map_root_to(uid, gid)
    make_mounts_private()
    pid = os.fork()  # the new PID namespace starts with this process's first child
    if pid:
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):  # as unshare does: die of the same signal
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
            os.kill(os.getpid(), os.WTERMSIG(status))
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    die_with_parent()  # --kill-child: the jail goes with the process the grader knows
    JAIL.loopback_up()
    JAIL.build_root(spec)
    unshare(CLONE_NEWUSER)  # the learner holds no capability over the mounts just made
    drop_capabilities()  # ...nor any in its own namespace: what the cold path's exec of child.py does


def drop_capabilities() -> None:
    """capset(2) to nothing: effective, permitted and inheritable all empty. A new user namespace gives
    its creator every capability inside it, which an ``exec`` as its unmapped uid would clear (the cold
    path); without the exec, they are cleared here."""
    ctypes, lib = libc()
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # two __user_cap_data_struct, all zero
    if lib.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), f"capset: {os.strerror(ctypes.get_errno())}")


def stage_chroot(spec: dict, event_fd: int) -> None:
    """``chroot_stage.py``'s steps, in-process."""
    seccomp = STAGE.load_seccomp()  # imports ctypes: here, never in the server
    STAGE.close_other_fds({0, 1, 2, event_fd})
    STAGE.set_limits(spec)
    os.chroot(spec["root"])
    os.chdir(spec["home"])
    STAGE.drop_to(int(spec["uid"]), int(spec["gid"]))
    seccomp.install(os.getpid(), os.getpgid(0))


def become_learner(request: dict, fds: list[int], uid: int, gid: int) -> None:
    """The forked child: set up as the module docstring says, then run ``child.py``. Never returns."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        event_fd = int(request["event_fd"])
        place_descriptors(fds, event_fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if request["isolation"] == "linux-namespaces":
            jail_in_namespaces(request["jail"], uid, gid)
        elif request["isolation"] == "chroot-seccomp":
            stage_chroot(request["stage"], event_fd)
        os.chdir(request["cwd"] if request["isolation"] != "chroot-seccomp" else request["stage"]["home"])
        JAIL.forget_ctypes()  # (load() registers no module in sys.modules: only ctypes is there to drop)
        sys.argv = [os.path.join(HERE, "child.py")]
    except BaseException as exc:  # noqa: BLE001 - trusted set-up failed: say why, run no learner code
        try:
            os.write(2, f"mla-labs sandbox: could not build the {request.get('isolation')} sandbox: {exc}\n"
                     .encode(errors="replace"))
        finally:
            os._exit(SETUP_FAILED)
    CHILD.run()  # ends the process


# --- the server --------------------------------------------------------------------------------------


def preload_models(services: list[str]) -> None:
    """Load the services' models once, into the loader every forked child's sessions will share."""
    CHILD.share_data_loader()
    try:
        import botocore.session
    except ImportError:
        return
    session = botocore.session.get_session()
    for service in services:
        try:
            session.create_client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                  aws_access_key_id="x", aws_secret_access_key="x")
        except Exception:  # noqa: BLE001 - an unknown service: the learner's own client will say so
            pass


def default_session() -> None:
    """boto3's default session, which ``boto3.client(...)`` makes on a process's first call (~13 ms: every
    built-in event handler registered and its signature inspected), made once here. It holds no
    credentials, region or endpoint yet: botocore resolves those from the environment when a client is
    made (its providers read ``os.environ``, which each child fills with its own), and the learner's
    environment has no config or credentials file (``AWS_CONFIG_FILE``/``AWS_SHARED_CREDENTIALS_FILE``
    are ``/dev/null``). A learner's ``boto3.setup_default_session(...)`` replaces it, as ever."""
    try:
        import boto3
    except ImportError:
        return
    boto3.setup_default_session()


def serve(sock: socket.socket) -> None:
    uid, gid = os.getuid(), os.getgid()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    children: set[int] = set()

    def send(message: dict) -> None:
        try:
            sock.send(json.dumps(message).encode())
        except OSError:
            pass

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)
            send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})

    send({"ready": True})
    try:
        while True:
            try:
                readable, _, _ = select.select([sock, wake_r], [], [])
            except InterruptedError:
                continue
            if wake_r in readable:
                os.read(wake_r, 4096)
                reap()
            if sock not in readable:
                continue
            request = None
            try:
                data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 3)
            except InterruptedError:
                continue
            if not data:
                return  # the grader is gone
            try:
                request = json.loads(data)
                if len(fds) != 3:
                    raise ValueError(f"expected 3 descriptors, got {len(fds)}")
                pid = os.fork()
                if pid == 0:
                    sock.close()
                    os.close(wake_r)
                    os.close(wake_w)
                    become_learner(request, fds, uid, gid)
                children.add(pid)
                send({"id": request.get("id"), "pid": pid})
            except Exception as exc:  # noqa: BLE001 - answered, never fatal to the server
                send({"id": request.get("id") if isinstance(request, dict) else None, "error": str(exc)})
            finally:
                for fd in fds:
                    os.close(fd)
            reap()
    finally:  # the grader is gone: so is everything forked for it (killed, then reaped)
        for pid in list(children):
            kill_group(pid)
        for pid in list(children):
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


def kill_group(pid: int) -> None:
    """Kill a forked process and its group: the process itself too, as it may not have made its group
    yet (``setsid`` is its first step). Only for a process not yet reaped: its pid is still its own."""
    for kill in (os.kill, os.killpg):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


def listed_argument(index: int) -> list[str]:
    """The comma-separated names of ``sys.argv[index]`` (``ForkServer``'s services, then libraries)."""
    return [name for name in sys.argv[index].split(",") if name] if len(sys.argv) > index else []


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    CHILD.warm_up()
    preload_models(listed_argument(2))
    CHILD.preload_roots(set(listed_argument(3)))
    default_session()
    # Everything loaded so far lives as long as this process: frozen, the cyclic collector of a fork never
    # walks it, so the fork's collections do not write to (and copy) every page it shares with this one
    # (https://docs.python.org/3/library/gc.html#gc.freeze).
    gc.freeze()
    serve(sock)
    os._exit(0)


if __name__ == "__main__":
    main()
