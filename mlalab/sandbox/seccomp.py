"""The system calls the learner's process may not make in the ``chroot-seccomp`` isolation: a small
seccomp-BPF filter, installed with ``prctl`` through ``ctypes``.

Why our own BPF program rather than a binding: ``pyseccomp`` (the one pip-installable binding) is a
thin ``ctypes`` wrapper around the system's ``libseccomp.so.2``, which Gradescope's and Docker's base
images do not promise, and it would be a new dependency for ~60 rules that fit in one page. This
file is standard library only: ``chroot_stage.py`` loads it by path (``python -I -S``), before the
learner's code exists.

The rule, exactly (``rules()``; every refusal is ``EPERM``, so Python raises a clean
``PermissionError``; nothing is killed):

- the calling convention must be x86_64 (and not its x32 variant) or aarch64; any other
  architecture's system call (``int 0x80`` from x86_64...) is refused;
- ``socket``/``socketpair``: only ``AF_UNIX`` (the bridge to the lab's AWS); ``AF_INET``,
  ``AF_INET6``, ``AF_NETLINK``, ``AF_PACKET`` and every other family are refused;
- ``kill(pid, sig)``: only ``pid`` 0 (its own process group), ``-pgid`` and ``pid`` themselves, where
  ``pid``/``pgid`` are the learner's process's ids when the filter was installed (the stage execs the
  child, so they are the child's; its children inherit the same constants). ``tkill``, ``tgkill``,
  ``rt_sigqueueinfo`` and ``rt_tgsigqueueinfo``: only with that same ``pid`` as target (thread group);
  ``setsid`` and ``setpgid`` are refused, so no process can leave the group the grader kills;
- ``clone``: refused with any ``CLONE_NEW*`` flag; ``clone3`` answers ``ENOSYS`` (its flags sit behind a
  pointer a filter cannot read, and the C library then falls back to ``clone``);
- ``personality``: only the query (``0xffffffff``);
- refused outright: ``ptrace``, ``process_vm_readv/writev``, ``process_madvise``, ``kcmp``,
  ``pidfd_open``, ``pidfd_send_signal``, ``pidfd_getfd``, ``mount``, ``umount2``, the new mount API
  (``fsopen``...``mount_setattr``), ``unshare``, ``setns``, ``pivot_root``, ``chroot``, ``keyctl``,
  ``add_key``, ``request_key``, ``bpf``, ``perf_event_open``, ``userfaultfd``, ``io_uring_*`` (it would
  make sockets without ``socket()``), ``init_module``, ``finit_module``, ``delete_module``,
  ``kexec_load``, ``kexec_file_load``, ``reboot``, ``swapon``, ``swapoff``, ``open_by_handle_at``,
  ``name_to_handle_at``, ``acct``, ``quotactl``, ``sethostname``, ``setdomainname``, the clock setters,
  ``lookup_dcookie``, ``fanotify_init``, ``vhangup`` and, on x86_64, ``iopl``/``ioperm``;
- everything else is allowed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_SYSCALL_BIT = 0x40000000
AF_UNIX = 1
PERSONALITY_QUERY = 0xFFFFFFFF
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
RET_EPERM = SECCOMP_RET_ERRNO | errno.EPERM
RET_ENOSYS = SECCOMP_RET_ERRNO | errno.ENOSYS

# classic BPF opcodes
LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET = 0x06  # BPF_RET | BPF_K
# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6] (little endian:
# an int argument is the low word)
OFF_NR, OFF_ARCH = 0, 4


def OFF_ARG(index: int) -> int:  # noqa: N802 - the kernel's name
    return 16 + 8 * index


# System call numbers: x86_64 from arch/x86/entry/syscalls/syscall_64.tbl, aarch64 from
# include/uapi/asm-generic/unistd.h (tests/sandbox/test_seccomp.py checks them against the headers).
SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "socket": 41, "socketpair": 53, "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129,
        "rt_tgsigqueueinfo": 297, "clone": 56, "clone3": 435, "personality": 135,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "process_madvise": 440, "kcmp": 312,
        "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438, "mount": 165, "umount2": 166,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "unshare": 272, "setns": 308, "pivot_root": 155, "chroot": 161, "keyctl": 250,
        "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "reboot": 169,
        "swapon": 167, "swapoff": 168, "open_by_handle_at": 304, "name_to_handle_at": 303, "acct": 163,
        "quotactl": 179, "sethostname": 170, "setdomainname": 171, "settimeofday": 164, "clock_settime": 227,
        "adjtimex": 159, "clock_adjtime": 305, "lookup_dcookie": 212, "fanotify_init": 300, "vhangup": 153,
        "setsid": 112, "setpgid": 109, "iopl": 172, "ioperm": 173,
    },
    "aarch64": {
        "socket": 198, "socketpair": 199, "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138,
        "rt_tgsigqueueinfo": 240, "clone": 220, "clone3": 435, "personality": 92,
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "process_madvise": 440, "kcmp": 272,
        "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438, "mount": 40, "umount2": 39,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "unshare": 97, "setns": 268, "pivot_root": 41, "chroot": 51, "keyctl": 219,
        "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294, "reboot": 142,
        "swapon": 224, "swapoff": 225, "open_by_handle_at": 265, "name_to_handle_at": 264, "acct": 89,
        "quotactl": 60, "sethostname": 161, "setdomainname": 162, "settimeofday": 170, "clock_settime": 112,
        "adjtimex": 171, "clock_adjtime": 266, "lookup_dcookie": 18, "fanotify_init": 262, "vhangup": 58,
        "setsid": 157, "setpgid": 154,
    },
}
ARCHES = {"x86_64": AUDIT_ARCH_X86_64, "aarch64": AUDIT_ARCH_AARCH64}
CONDITIONAL = ("socket", "socketpair", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "clone",
               "clone3", "personality")


def rules(pid: int, pgid: int) -> dict[str, list[tuple[int, int]] | str]:
    """Per system call: "deny", "enosys", or the values of argument 0 (low 32 bits) that are allowed,
    as ``(argument index, value)`` pairs (any other value is refused)."""
    mask = 0xFFFFFFFF
    own = [(0, pid & mask)]
    return {
        "socket": [(0, AF_UNIX)], "socketpair": [(0, AF_UNIX)],
        "kill": [(0, 0), (0, -pgid & mask), (0, pid & mask)],
        "tkill": own, "tgkill": own, "rt_sigqueueinfo": own, "rt_tgsigqueueinfo": own,
        "personality": [(0, PERSONALITY_QUERY)], "clone3": "enosys", "clone": "no-namespaces",
    }


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def program(pid: int, pgid: int) -> list[bytes]:
    """The BPF program: check the architecture, then one small block per conditional system call
    (each reloads the number), then one jump table of the refused ones."""
    allowed = rules(pid, pgid)
    out: list[bytes] = [_insn(LD_ABS, 0, 0, OFF_ARCH)]
    sections = []
    for arch, audit in ARCHES.items():
        numbers = SYSCALLS[arch]
        body: list[bytes] = [_insn(LD_ABS, 0, 0, OFF_NR)]
        if arch == "x86_64":  # x32 ABI calls share the arch value: refuse them all
            body += [_insn(JGE, 0, 1, X32_SYSCALL_BIT), _insn(RET, 0, 0, RET_EPERM)]
        for name in CONDITIONAL:
            rule = allowed[name]
            if rule == "enosys":
                block = [_insn(RET, 0, 0, RET_ENOSYS)]
            elif rule == "no-namespaces":
                block = [_insn(LD_ABS, 0, 0, OFF_ARG(0)), _insn(JSET, 0, 1, CLONE_NEW_FLAGS),
                         _insn(RET, 0, 0, RET_EPERM), _insn(RET, 0, 0, SECCOMP_RET_ALLOW)]
            else:
                block = [_insn(LD_ABS, 0, 0, OFF_ARG(rule[0][0]))]
                for i, (_, value) in enumerate(rule):
                    # equal: jump over the remaining compares to the ALLOW after them
                    block.append(_insn(JEQ, len(rule) - i, 0, value))
                block += [_insn(RET, 0, 0, RET_EPERM), _insn(RET, 0, 0, SECCOMP_RET_ALLOW)]
            body += [_insn(JEQ, 0, len(block), numbers[name]), *block]  # every block returns: A keeps nr
        denied = [n for name, n in numbers.items() if name not in CONDITIONAL]
        for i, number in enumerate(denied):
            body.append(_insn(JEQ, len(denied) - i, 0, number))  # -> the EPERM after the ALLOW
        body += [_insn(RET, 0, 0, SECCOMP_RET_ALLOW), _insn(RET, 0, 0, RET_EPERM)]
        sections.append((audit, body))
    # arch dispatch: jeq X86 -> section 1; jeq AARCH64 -> section 2; else EPERM
    first, second = sections
    if len(first[1]) > 250:  # a jump's offset is one byte
        raise ValueError("seccomp program: the x86_64 section is too long to jump over")
    out += [_insn(JEQ, 2, 0, first[0]), _insn(JEQ, 1 + len(first[1]), 0, second[0]), _insn(RET, 0, 0, RET_EPERM)]
    out += first[1] + second[1]
    if len(out) > 4096:
        raise ValueError("seccomp program too long")
    return out


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(pid: int | None = None, pgid: int | None = None) -> None:
    """``no_new_privs`` first (required for an unprivileged filter, and no set-uid program can undo what
    follows), then the filter. Raises ``OSError`` if the kernel refuses either."""
    pid = os.getpid() if pid is None else pid
    pgid = os.getpgid(0) if pgid is None else pgid
    code = b"".join(program(pid, pgid))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
