"""The grading engine: run labs' test modules under pytest with the mla-labs plugin, and build the
result objects every report format is written from. Same path for practice, CI and workshops."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import random
import threading
import time
from pathlib import Path

import pytest

from mlalab import feedback, plugin
from mlalab.catalog import PROJECT_ROOT, Lab
from mlalab.plugin import GradingOptions, GradingSession, LabOutcome, Recorder, WarmResources
from mlalab.results import CheckResult, LabResult, SubmissionResult
from mlalab.sandbox import OUTPUT_CAP, namespaces_available
from mlalab.server import preload_services


class GradingError(Exception):
    """Grading itself could not run (not a learner mistake)."""


# pytest's plugins a grading session does without. Installed plugins (xdist, hypothesis, ...) are not
# auto-loaded at all (PYTEST_DISABLE_PLUGIN_AUTOLOAD: ~0.1 s of imports); "unraisableexception" runs
# gc.collect() twice as the session ends (~0.2 s with moto loaded) to report unraisable exceptions,
# which a grading never shows; "logging" captures the grader's own log records for reports a grading
# never prints, and walks ``logging``'s table of loggers as each phase starts without its lock, so a
# logger made meanwhile by the background preload's imports (or a server thread) stopped the session
# with "dictionary changed size during iteration"; the rest are reports and collectors a lab module
# never uses.
UNUSED_PLUGINS = ("cacheprovider", "terminal", "randomly", "unraisableexception", "doctest", "junitxml",
                  "pastebin", "legacypath", "logging")
_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
_SESSION_LOCK = threading.Lock()  # the environment variable above is process-wide


def grade(submission: Path | None, labs: list[Lab], *, seed: int | None = None, timeout: float = 60.0,
          memory_mb: int = 1024, name: str | None = None, warm: WarmResources | None = None) -> SubmissionResult:
    """Grade ``labs`` for the submission folder (``None`` grades the reference solutions)."""
    result = grade_each([submission], labs, seed=seed, timeout=timeout, memory_mb=memory_mb, warm=warm)[0]
    if name is not None:
        result.submission = name
    return result


def grade_each(submissions: list[Path | None], labs: list[Lab], *, seed: int | None = None,
               timeout: float = 60.0, memory_mb: int = 1024,
               warm: WarmResources | None = None) -> list[SubmissionResult]:
    """Grade ``labs`` for each submission folder in turn, in one pytest session with one moto server.

    Every submission still gets its own fresh AWS state and its own sandboxed learner process; what
    they share is the grader's start-up (imports, collection, the server and moto's loaded backends),
    which is most of a grading's cost when many solutions of one lab are graded (the project's tests).
    ``warm`` (a ``mlalab.warm.WarmGrader``) lends its running server, clients and a learner process
    started ahead of need, so that a session pays none of that start-up.
    """
    started = time.monotonic()
    # Probe the Linux sandbox now, in the background: it overlaps with pytest's start-up.
    threading.Thread(target=namespaces_available, daemon=True, name="mlalab-probe").start()
    if warm is None and os.environ.get("MLALAB_NO_PRELOAD") != "1":
        # ...and load the labs' moto backends (EC2's takes a second) while pytest starts and collects.
        services = list(dict.fromkeys(s for lab in labs for s in lab.services))
        threading.Thread(target=preload_services, args=(services,), daemon=True, name="mlalab-preload").start()
    if seed is None:
        seed = random.SystemRandom().randrange(1, 10**6)
    folders = tuple(None if s is None else Path(s) for s in submissions)
    options = GradingOptions(submissions=folders, seed=seed, timeout=timeout, memory_mb=memory_mb)
    recorder = Recorder()
    args = [str(lab.test_module) for lab in labs]
    for unused in UNUSED_PLUGINS:
        args += ["-p", f"no:{unused}"]
    args += ["--import-mode=importlib", "--rootdir", str(PROJECT_ROOT), "-c", str(PROJECT_ROOT / "pyproject.toml"),
             "-o", "addopts="]
    sink = io.StringIO()
    with _SESSION_LOCK, _no_plugin_autoload(), _fewer_collections(), contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        # The plugin module itself, not "-p mlalab.plugin": a name makes pytest read every installed
        # distribution's entry points first (~25 ms of a cold grading), to find the module it names.
        code = pytest.main(args, plugins=[GradingSession(options, recorder, warm), plugin])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        raise GradingError(f"pytest could not run the lab modules (exit {int(code)}):\n{sink.getvalue()[-3000:]}")
    duration = round(time.monotonic() - started, 3)
    out = []
    for index, folder in enumerate(folders):
        results = [lab_result(lab, recorder.labs.get((index, lab.id)) or LabOutcome(lab, seed), timeout, memory_mb)
                   for lab in labs]
        out.append(SubmissionResult.of_labs(
            str(folder) if folder is not None else "reference", results,
            duration if len(folders) == 1 else round(sum(r.duration for r in results), 3)))
    return out


# Python's cyclic garbage collector, with its default thresholds, runs about 470 times in a grading of
# lab 01, three of them full collections that walk every object moto, botocore and pytest have made
# (~0.2 s in all, a sixth of a cold grading). During a session it walks neither what was imported before
# (frozen: modules and their data live as long as the process anyway) nor starts before 50,000 new
# objects; the garbage a session makes (a request's cycles, exceptions' frames) is still collected,
# only in larger batches. Nothing a grading reports depends on when that happens.
SESSION_GC_THRESHOLDS = (50_000, 20, 100)


@contextlib.contextmanager
def _fewer_collections():
    """Collect cyclic garbage less often during a session (thresholds and frozen objects restored after)."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*SESSION_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


@contextlib.contextmanager
def _no_plugin_autoload():
    before = os.environ.get(_AUTOLOAD)
    os.environ[_AUTOLOAD] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_AUTOLOAD, None)
        else:
            os.environ[_AUTOLOAD] = before


def lab_result(lab: Lab, outcome: LabOutcome, timeout: float, memory_mb: int) -> LabResult:
    problems = feedback.problems(lab, outcome.run, timeout, memory_mb) if outcome.run else []
    by_function = _problem_by_function(lab, outcome)
    checks: list[CheckResult] = []
    for check in lab.checks:
        got = outcome.checks.get(check.id)
        if got is None:
            status, message, duration = "error", "this check did not run (the lab could not be set up)", 0.0
        else:
            status, message, duration = got.status, got.message, got.duration
        if status == "fail" and check.function and check.function in by_function:
            message = f"{message}\n  because: {by_function[check.function]}"
        checks.append(CheckResult(
            id=check.id, name=check.name, status=status, points=check.points if status == "pass" else 0.0,
            max_points=check.points, message=message if status != "pass" else check.name, task=lab.task,
            duration=round(duration, 4)))
    grading_broken = any(c.status == "error" for c in checks)
    score = sum(c.points for c in checks)
    status = "error" if grading_broken else ("pass" if score == lab.max_score else "fail")
    run = outcome.run
    return LabResult(
        lab=lab.id, slug=lab.slug, title=lab.title, task=lab.task, status=status, score=score,
        max_score=lab.max_score, checks=checks, output=_output(run),
        output_truncated=run.output_truncated if run else False, problems=problems,
        duration=round(sum(c.duration for c in checks) + (run.duration if run else 0.0), 3), seed=outcome.seed,
        isolation=run.isolation if run else "")


def _output(run) -> str:
    """The learner's captured output; when it was cut, a note says so in every results format."""
    if run is None:
        return ""
    if run.output_truncated:
        return run.output + f"\n[mla-labs: output cut here; only the first {OUTPUT_CAP} characters are kept]\n"
    return run.output


def _problem_by_function(lab: Lab, outcome: LabOutcome) -> dict[str, str]:
    """The one-line reason a learner function did not do its job, for the checks that grade it."""
    run = outcome.run
    if run is None:
        return {}
    if run.module_missing:  # the lab's problems say so once; each check says it was not graded
        return {}
    imported = run.import_event()
    if imported and imported.get("status") != "ok":
        return {f.name: f"{lab.workspace_file} could not be imported (see the problems above)"
                for f in lab.functions}
    reasons = {}
    for fn in lab.functions:
        event = run.call_event(fn.name)
        if event is None:
            reasons[fn.name] = f"{fn.name} never finished (see the problems above)"
        elif event.get("status") != "ok":
            reasons[fn.name] = {
                "missing": f"{fn.name} is not defined",
                "signature": f"{fn.name} has the wrong signature",
                "not_implemented": f"{fn.name} is not written yet",
            }.get(event.get("status"), f"{fn.name} raised an error (see the problems above)")
    return reasons
