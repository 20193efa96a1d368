"""Stage 1 of the Linux sandbox: runs as root of a fresh user+net+pid+mount namespace.

Started by ``runner`` as ``unshare --user --map-root-user --net --pid --mount --fork --kill-child
python -I -S jail.py SANDBOX_DIR -- CHILD_ARGV...``. It is trusted code (no learner code has run
yet) and does the privileged set-up that needs root *inside* the namespaces:

1. brings up the loopback interface of the new (otherwise empty) network namespace;
2. remounts every mount read-only, then re-binds only the sandbox folder writable, so learner code
   can change no file of the grader, the project, the virtualenv or the system;
3. execs the learner child inside a *nested* user namespace where it holds no capability over
   these mounts, so it cannot undo them (umount/remount need CAP_SYS_ADMIN in the owner namespace).

Standard library only and ``-S`` (no site-packages): nothing here may be importable from the
learner's side of the fence.
"""

import fcntl
import os
import socket
import struct
import subprocess
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            points.append(point)
    return points


def read_only_except(writable: str) -> None:
    for point in mount_points():
        # Failures (for example on /proc or a locked mount) leave that mount as it was; the
        # project, the virtualenv and the system paths are ordinary mounts and do turn read-only.
        subprocess.run(["mount", "-o", "remount,bind,ro", point], capture_output=True, check=False)
    subprocess.run(["mount", "--bind", writable, writable], check=True, capture_output=True)


def main() -> None:
    sandbox_dir = sys.argv[1]
    child_argv = sys.argv[sys.argv.index("--") + 1 :]
    loopback_up()
    read_only_except(sandbox_dir)
    os.execvp("unshare", ["unshare", "--user", *child_argv])


if __name__ == "__main__":
    main()
