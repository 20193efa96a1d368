"""The seccomp filter of the chroot-seccomp isolation (mlalab/sandbox/seccomp.py), alone.

Each case installs the filter in a fresh Python process (it cannot be removed) and reports what the
kernel answered. The system call numbers are checked against the kernel headers this machine has
(x86_64: asm/unistd_64.h; aarch64 uses the generic table, asm-generic/unistd.h).
Kernel documentation: https://docs.kernel.org/userspace-api/seccomp_filter.html
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlalab.sandbox import seccomp

LINUX = pytest.mark.skipif(sys.platform != "linux" or platform.machine() not in ("x86_64", "aarch64"),
                           reason="the filter is built for Linux on x86_64 and aarch64")
HEADERS = {"x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
           "aarch64": Path("/usr/include/asm-generic/unistd.h")}


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_system_call_numbers_match_the_kernel_headers(arch):
    header = HEADERS[arch]
    if not header.is_file():
        pytest.skip(f"{header} is not installed")
    defined = {m[1]: int(m[2]) for m in re.finditer(r"#define __NR3?2?_(\w+)\s+(\d+)", header.read_text())}
    ours = seccomp.SYSCALLS[arch]
    assert {name: defined.get(name) for name in ours} == ours


def test_the_program_fits_and_jumps_are_in_range():
    code = seccomp.program(4242, 4242)
    assert 100 < len(code) < 4096
    for insn in code:
        assert len(insn) == 8


PROBE = r'''
import ctypes, errno, json, os, signal, socket, sys, threading, importlib.util
spec = importlib.util.spec_from_file_location("sc", sys.argv[1])
sc = importlib.util.module_from_spec(spec); spec.loader.exec_module(sc)
os.setpgid(0, 0)
target = int(sys.argv[2])
sc.install()
libc = ctypes.CDLL(None, use_errno=True)
nr = sc.SYSCALLS[os.uname().machine]
out = {}
def attempt(label, action):
    try:
        value = action()
        out[label] = "ok"
    except OSError as exc:
        out[label] = errno.errorcode.get(exc.errno, str(exc.errno))
def raw(name, *args, extra=0):
    def call():
        ctypes.set_errno(0)
        if libc.syscall(ctypes.c_long(nr[name] | extra), *[ctypes.c_long(a) for a in args]) == -1:
            raise OSError(ctypes.get_errno(), name)
    return call
attempt("no_new_privs", lambda: None if open("/proc/self/status").read().count("NoNewPrivs:\t1") else 1 / 0)
attempt("inet", lambda: socket.socket(socket.AF_INET).close())
attempt("inet6", lambda: socket.socket(socket.AF_INET6).close())
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW).close())
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close())
attempt("unix", lambda: socket.socket(socket.AF_UNIX).close())
attempt("socketpair", lambda: [s.close() for s in socket.socketpair()])
attempt("kill other", lambda: os.kill(target, 0))
attempt("kill all", lambda: os.kill(-1, 0))
attempt("kill own group", lambda: os.killpg(0, 0))
attempt("kill own group by id", lambda: os.killpg(os.getpgid(0), 0))
attempt("kill self", lambda: os.kill(os.getpid(), 0))
attempt("tgkill other", raw("tgkill", target, target, 0))
attempt("rt_sigqueueinfo other", raw("rt_sigqueueinfo", target, 0, 0))
attempt("pthread_kill own thread", lambda: signal.pthread_kill(threading.get_ident(), 0))
attempt("pidfd_open", lambda: os.pidfd_open(target))
attempt("pidfd_send_signal", raw("pidfd_send_signal", 0, 0, 0, 0))
attempt("pidfd_getfd", raw("pidfd_getfd", 0, 0, 0))
attempt("ptrace", raw("ptrace", 16, target, 0, 0))  # PTRACE_ATTACH
attempt("process_vm_readv", raw("process_vm_readv", target, 0, 0, 0, 0, 0))
attempt("unshare user", raw("unshare", 0x10000000))
attempt("clone newnet", raw("clone", 0x40000000 | 17, 0, 0, 0, 0))
attempt("clone3", raw("clone3", 0, 0))
attempt("setns", raw("setns", 0, 0))
attempt("mount", raw("mount", 0, 0, 0, 0, 0))
attempt("chroot", lambda: os.chroot("/"))
attempt("keyctl", raw("keyctl", 0, 0, 0, 0, 0))
attempt("bpf", raw("bpf", 0, 0, 0))
attempt("perf_event_open", raw("perf_event_open", 0, 0, 0, 0, 0))
attempt("userfaultfd", raw("userfaultfd", 0))
attempt("io_uring_setup", raw("io_uring_setup", 1, 0))
attempt("personality change", raw("personality", 0x0040000))  # ADDR_NO_RANDOMIZE
attempt("personality query", raw("personality", 0xFFFFFFFF))
attempt("setsid", os.setsid)
attempt("setpgid", lambda: os.setpgid(0, 0))
if os.uname().machine == "x86_64":
    attempt("x32 getpid", raw("kill", 0, 0, extra=0x40000000))  # any call through the x32 ABI
attempt("thread", lambda: (lambda t: (t.start(), t.join()))(threading.Thread(target=lambda: None)))
def fork_and_wait():
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return os.waitpid(pid, 0)
attempt("fork", fork_and_wait)
print(json.dumps(out))
'''


@LINUX
def test_the_filter_refuses_exactly_what_it_says(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        script = tmp_path / "probe.py"
        script.write_text(PROBE)
        done = subprocess.run([sys.executable, "-I", "-S", str(script), seccomp.__file__, str(sleeper.pid)],
                              capture_output=True, text=True, timeout=30)
        assert sleeper.poll() is None  # nothing reached it
    finally:
        sleeper.kill()
        sleeper.wait()
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    allowed = {"no_new_privs", "unix", "socketpair", "kill own group", "kill own group by id", "kill self",
               "pthread_kill own thread", "personality query", "thread", "fork"}
    assert {k for k, v in got.items() if v == "ok"} == allowed, got
    assert got["clone3"] == "ENOSYS"  # so that the C library falls back to clone, which the filter can read
    assert {v for k, v in got.items() if k not in allowed and k != "clone3"} == {"EPERM"}, got
