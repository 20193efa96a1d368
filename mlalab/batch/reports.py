"""What a batch writes to ``--out``: one re-signed results document per submission in
``results/``, ``grades.csv`` and ``report.html``, plus the totals line of the log."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from mlalab.formats import write
from mlalab.formats.json_format import number
from mlalab.results import SubmissionResult


def summary_line(result: SubmissionResult, seconds: float) -> str:
    line = f"{result.submission}: {number(result.score)}/{number(result.max_score)} {result.status} " \
           f"({seconds:.1f} s)"
    if result.status == "error" and result.error:
        line += f": {result.error}"
    return line


def results_file_name(name: str) -> str:
    safe = re.sub(r"[^\w.-]", "_", name).lstrip(".") or "submission"
    return f"{safe}.json"


def write_reports(results: list[SubmissionResult], out: Path, missing: dict[str, set[int]], wall: float,
                  key: bytes | None, log: Callable[[str], None]) -> None:
    """Write every output of the batch; each results document is re-signed by this process with a
    new nonce and the instructor's key (the per-batch key its grader used dies with the batch)."""
    from mlalab import classreport

    results_dir = out / "results"
    used: set[str] = set()
    for result in results:
        file_name, n = results_file_name(result.submission), 2
        while file_name.lower() in used:  # names that differ only in case share a file on some systems
            file_name, n = results_file_name(f"{result.submission}-{n}"), n + 1
        used.add(file_name.lower())
        write(result, "json", results_dir / file_name, secrets.token_hex(16), key)
    csv_path = classreport.write_csv(results, out / "grades.csv", missing)
    html_path = classreport.write_html(results, out / "report.html", missing=missing)
    counts = {status: sum(r.status == status for r in results) for status in ("pass", "fail", "error")}
    mean = sum(r.score for r in results) / len(results)
    max_score = max(r.max_score for r in results)
    log(f"Total: {len(results)} submissions in {wall:.1f} s ({len(results) / wall * 60:.1f}/min): "
        f"{counts['pass']} pass, {counts['fail']} fail, {counts['error']} error; "
        f"mean score {number(mean)}/{number(max_score)}")
    log(f"Wrote {csv_path}, {html_path} and {len(results)} results in {results_dir}{os.sep}")
