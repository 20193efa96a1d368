"""Grading time per isolation level (issue 12): ``python -m bench.isolation_bench``.

Grades lab 2's reference solution N times in each level this machine provides (forced with
``MLALAB_ISOLATION``), one grading session per level, and prints the median seconds per grading and
the chroot-seccomp / process ratio (the target: at most 1.20). The chroot root is built before the
clock starts (its first build is reported apart: a one-off per machine and virtualenv).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def available_levels() -> list[str]:
    from mlalab.sandbox import jail_command
    from mlalab.sandbox.isolation import chroot_unavailable

    levels = ["process"]
    if chroot_unavailable() is None:
        levels.append("chroot-seccomp")
    if jail_command.namespaces_available():
        levels.append("linux-namespaces")
    return levels


def measure(repeat: int = 5) -> dict:
    from mlalab.catalog import find_lab
    from mlalab.grading import grade_each
    from mlalab.sandbox import chroot_root

    lab = find_lab(2)
    started = time.monotonic()
    root = chroot_root.jail_root() if os.geteuid() == 0 else None
    report: dict = {"root_ready_s": round(time.monotonic() - started, 3), "root_build": dict(chroot_root.STATS)}
    if root is not None:
        built = root.parent / f"{root.name}.json"
        report["root_build"] = json.loads(built.read_text()) if built.is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for i in range(repeat):
            folder = Path(tmp) / f"s{i}"
            folder.mkdir()
            (folder / lab.workspace_file).write_text(lab.solution_path.read_text())
            folders.append(folder)
        for level in available_levels():
            os.environ["MLALAB_ISOLATION"] = level
            results = grade_each(folders, [lab], seed=7)
            times = [r.duration for r in results]  # the whole grading of one submission
            assert all(r.labs[0].isolation == level and r.labs[0].score == lab.max_score for r in results), level
            report[level] = {"median_s": round(statistics.median(times), 3), "all_s": [round(t, 3) for t in times]}
    os.environ.pop("MLALAB_ISOLATION", None)
    if "chroot-seccomp" in report:
        report["chroot_over_process"] = round(report["chroot-seccomp"]["median_s"] / report["process"]["median_s"], 3)
    return report


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=2))
