"""Warm grading (``mlalab.warm``): a learner process started ahead of its submission, the warm
grader's results against a fresh grader's, and ``grade-many``'s warm workers, replaced when a
worker dies, overruns or was disturbed. Isolation between gradings: tests/adversarial/test_warm_isolation.py."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from mlalab import batch as batch_package
from mlalab import cli, warm
from mlalab.batch import worker
from mlalab.batch.submissions import Submission
from mlalab.catalog import find_lab
from mlalab.results import CheckResult, LabResult, SubmissionResult
from mlalab.sandbox import Call, LearnerProcess
from mlalab.warm import WarmGrader, disturbance
from tests.adversarial import marker, survivors

LAB2 = find_lab(2)
MODULE = ("import os\n\ndef where(x):\n"
          "    print('at', os.path.basename(__file__), os.getcwd() == os.path.dirname(__file__), x)\n")


def test_a_process_started_ahead_runs_the_file_it_is_given_later(tmp_path):
    module = tmp_path / "lab99.py"
    process = LearnerProcess.ahead(port=9)
    assert process.alive()
    module.write_text(MODULE)  # written after the process started: it travels in the job
    run = process.assign(module, "lab99").run([Call("where", {"x": 41})], timeout=20)
    assert run.output.strip().splitlines()[-1] == "at lab99.py True 41"
    assert run.call_event("where")["status"] == "ok"
    assert process.base is None  # the sandbox folder is gone with the process


def test_a_process_started_ahead_serves_one_submission_only(tmp_path):
    process = LearnerProcess.ahead(port=9)
    try:
        try:
            process.run([Call("where", {})])
        except RuntimeError as exc:
            assert "assign()" in str(exc)
        else:
            raise AssertionError("a process without its submission ran")
        missing = process.assign(tmp_path / "lab99.py", "lab99")  # no such file: reported as missing
        try:
            missing.assign(tmp_path / "lab99.py", "lab99")
        except RuntimeError as exc:
            assert "one submission" in str(exc)
        else:
            raise AssertionError("a learner process was given a second submission")
        assert missing.run([Call("where", {})]).module_missing
    finally:
        process.close()


@pytest.fixture
def small_worker(monkeypatch):
    """The memory mark is about a worker process of its own; a test process (an xdist worker that has run
    hundreds of tests) is far above it, so the tests that are not about memory see a small worker."""
    monkeypatch.setattr(warm, "peak_rss_mb", lambda: 150.0)


def test_warm_results_equal_a_fresh_graders(tmp_path, small_worker):
    from mlalab.grading import grade

    starter = tmp_path / "starter"
    starter.mkdir()
    (starter / LAB2.workspace_file).write_text(LAB2.starter_text())
    with WarmGrader([LAB2]) as grader:
        warm = [grader.grade(None, [LAB2], seed=5), grader.grade(starter, [LAB2], seed=5),
                grader.grade(None, [LAB2], seed=5)]
        assert grader.disturbed is None and grader.gradings == 3
    cold = grade(starter, [LAB2], seed=5)
    assert [r.score for r in warm] == [16.0, 0.0, 16.0]
    assert [(c.id, c.status) for c in warm[1].labs[0].checks] == [(c.id, c.status) for c in cold.labs[0].checks]
    assert warm[1].labs[0].problems == cold.labs[0].problems


def result_with(problems: list[str], status: str = "fail") -> SubmissionResult:
    check = CheckResult(id="c", name="c", status="fail", points=0.0, max_points=1.0, message="m", task="4.2")
    lab = LabResult(lab=2, slug="s", title="t", task="4.2", status=status, score=0.0, max_score=1.0,
                    checks=[check], problems=problems)
    return SubmissionResult(submission="x", status=status, score=0.0, max_score=1.0, labs=[lab])


def test_a_worker_is_disturbed_by_refusals_stops_errors_and_age(small_worker):
    assert disturbance(result_with(["create_training_role is not written yet (it raises NotImplementedError)"]),
                       1) is None
    assert disturbance(result_with(["the sandbox refused: your code tried to start a subprocess"]), 1) == \
        "the learner's code had to be stopped or refused"
    assert disturbance(result_with(["your code did not finish within 2 s and was stopped: look"]), 1) == \
        "the learner's code had to be stopped or refused"
    assert disturbance(result_with([], status="error"), 1) == "a grading ended in error"
    assert disturbance(result_with([]), 200) == "200 gradings"


def test_a_worker_above_its_memory_mark_is_replaced(monkeypatch):
    monkeypatch.setattr(warm, "peak_rss_mb", lambda: warm.MAX_RSS_MB + 1.0)
    assert disturbance(result_with([]), 1) == f"its memory reached {warm.MAX_RSS_MB + 1:.0f} MB"


def write_class(room: Path, names: list[str], source: str) -> None:
    for name in names:
        (room / name).mkdir(parents=True)
        (room / name / LAB2.workspace_file).write_text(source)


# A worker that is the real one, except that it dies (as the OOM killer would) or hangs with a
# process of its own on one learner's submission.
FAULTY = '''
import os, signal, subprocess, sys, time
from mlalab import warm
real = warm.WarmGrader.grade
def grade(self, submission, *args, **kwargs):
    if submission is not None and submission.name == "dave":
        os.kill(os.getpid(), signal.SIGKILL)
    if submission is not None and submission.name == "frank":
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", TAG], start_new_session=True)
        time.sleep(600)
    return real(self, submission, *args, **kwargs)
warm.WarmGrader.grade = grade
sys.exit(warm.serve())
'''


def test_grade_many_replaces_a_worker_that_died_or_hung(tmp_path, monkeypatch, capsys):
    tag = marker()
    room = tmp_path / "class"
    write_class(room, ["alice", "dave", "erin", "frank", "gina"], LAB2.solution_path.read_text())
    faulty = [sys.executable, "-c", FAULTY.replace("TAG", repr(tag))]
    monkeypatch.setattr(worker, "warm_command", lambda options: faulty)
    monkeypatch.setattr(worker, "CAP_SLACK", 15.0)
    out = tmp_path / "out"

    code = cli.main(["grade-many", str(room), "--lab", "2", "--timeout", "5", "--out", str(out), "--jobs", "1",
                     "--seed", "3"])

    assert code == 0
    with (out / "grades.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert rows == [["alice", "2", "16", "16", "pass"], ["dave", "2", "0", "16", "error"],
                    ["erin", "2", "16", "16", "pass"], ["frank", "2", "0", "16", "error"],
                    ["gina", "2", "16", "16", "pass"]]
    dave = json.loads((out / "results" / "dave.json").read_text())
    assert dave["error"] == "the grader process died (SIGKILL)"
    frank = json.loads((out / "results" / "frank.json").read_text())
    assert frank["error"] == ("grading took longer than 20 s (the per-submission limit: 5 s per lab + 15 s) "
                              "and was stopped")
    assert survivors(tag) == [], "a process of the hung worker survived it"


def test_grade_many_warm_and_cold_give_the_same_grades(tmp_path, capsys):
    room = tmp_path / "class"
    write_class(room, ["ann", "ben"], LAB2.solution_path.read_text())
    write_class(room, ["cat"], LAB2.starter_text())
    grades = {}
    for mode in ("warm", "cold"):
        out = tmp_path / mode
        extra = ["--cold"] if mode == "cold" else []
        assert cli.main(["grade-many", str(room), "--lab", "2", "--out", str(out), "--jobs", "2", "--seed", "9",
                         *extra]) == 0
        grades[mode] = (out / "grades.csv").read_text()
    assert grades["warm"] == grades["cold"]
    assert grades["warm"].splitlines()[1:] == ["ann,2,16,16,pass", "ben,2,16,16,pass", "cat,2,0,16,fail"]


def test_a_grading_waits_for_the_background_preload_and_its_reset(monkeypatch, small_worker):
    """The background preload (``mlalab watch``) ends by resetting moto, process-wide: a grading that started
    before it ended lost its scenario mid-way, and one left running past close() hit another grader's."""
    def slow_preload(server, clients, labs):  # a preload whose reset may land at any moment of a grading
        for _ in range(25):
            time.sleep(0.1)
            server.reset()

    monkeypatch.setattr(warm, "preload", slow_preload)
    grader = WarmGrader([LAB2], preload_now=False)
    try:
        result = grader.grade(None, [LAB2], seed=5)
        assert result.score == 16.0, [c.message for c in result.labs[0].checks if c.status != "pass"]
    finally:
        grader.close()
    assert not [t for t in threading.enumerate() if t.name == "mlalab-preload"]


def test_an_untouched_starter_is_graded_once_per_seed(tmp_path, small_worker, monkeypatch):
    """The starter is the project's file: graded once per lab, seed and limits, then its grade is copied.
    Any edit, another seed or the reference is graded as ever; results keep the labs' order."""
    from mlalab.server import LabServer

    lab1 = find_lab(1)
    starter, edited = tmp_path / "starter", tmp_path / "edited"
    for folder, extra in ((starter, ""), (edited, "\n")):
        folder.mkdir()
        (folder / LAB2.workspace_file).write_text(LAB2.starter_text() + extra)
        (folder / lab1.workspace_file).write_text(lab1.solution_path.read_text())
    resets = []
    reset = LabServer.reset
    monkeypatch.setattr(LabServer, "reset", staticmethod(lambda: (resets.append(1), reset())))
    with WarmGrader([lab1, LAB2]) as grader:
        resets.clear()  # the preload's
        first = grader.grade(starter, [lab1, LAB2], seed=5)
        assert len(resets) == 2 and grader.gradings == 1
        again = grader.grade(starter, [lab1, LAB2], seed=5)
        assert len(resets) == 3  # lab 01 (the learner's own code) only
        only = grader.grade(starter, [LAB2], seed=5)
        assert len(resets) == 3 and grader.gradings == 2  # nothing was graded: no session at all
        grader.grade(edited, [LAB2], seed=5)
        grader.grade(starter, [LAB2], seed=6)
        assert len(resets) == 5
        first.labs[1].checks[0].message = "changed by a consumer"  # a copy was handed out
        later = grader.grade(starter, [LAB2], seed=5)
    assert [lab.lab for lab in again.labs] == [1, 2]
    assert again.score == first.score == lab1.max_score and again.max_score == lab1.max_score + LAB2.max_score
    assert again.status == "fail" and only.status == "fail" and only.score == 0
    assert asdict(again.labs[1]) == asdict(only.labs[0]) == asdict(later.labs[0])
    assert later.labs[0].checks[0].message != "changed by a consumer"
    assert [c.status for c in only.labs[0].checks] == ["fail"] * len(LAB2.checks)
    assert only.labs[0].problems and "not written yet" in only.labs[0].problems[0]


def test_a_file_saved_as_the_starter_during_a_grading_is_not_taken_for_it(tmp_path, small_worker, monkeypatch):
    """``watch``: the learner's attempt is graded while they reset the file to the starter. That grading is
    the attempt's, so it is not kept as the starter's: the starter is graded when it comes."""
    attempt = LAB2.starter_text() + "\nprint('an attempt')\n"
    (tmp_path / LAB2.workspace_file).write_text(attempt)
    real = warm.grade

    def grade_then_reset(*args, **kwargs):
        result = real(*args, **kwargs)
        (tmp_path / LAB2.workspace_file).write_text(LAB2.starter_text())  # saved while it was graded
        return result

    monkeypatch.setattr(warm, "grade", grade_then_reset)
    with WarmGrader([LAB2]) as grader:
        first = grader.grade(tmp_path, [LAB2], seed=5)
        monkeypatch.setattr(warm, "grade", real)
        second = grader.grade(tmp_path, [LAB2], seed=5)
        assert grader.gradings == 2
    assert "an attempt" in first.labs[0].output and "an attempt" not in second.labs[0].output


def test_a_starter_graded_beside_hostile_code_is_not_kept(tmp_path, small_worker):
    """A submission whose other lab had to be refused disturbs the grader: nothing of that grading is kept,
    so no other learner's starter grade comes from it."""
    lab1 = find_lab(1)
    (tmp_path / LAB2.workspace_file).write_text(LAB2.starter_text())
    (tmp_path / lab1.workspace_file).write_text("import subprocess\nsubprocess.run(['true'])\n")
    with WarmGrader([lab1, LAB2]) as grader:
        first = grader.grade(tmp_path, [lab1, LAB2], seed=5)
        assert grader.disturbed is not None
        assert first.labs[1].score == 0
        assert grader._starters == {}


# --- a worker per CPU (worker.worker_cpus, warm.keep_on_cpu) ------------------------------------


@pytest.mark.parametrize(("jobs", "cpus", "expected"), [
    (2, {0, 1}, [0, 1]),  # a worker per CPU: each kept on its own
    (3, {2, 5}, [2, 5, 2]),  # more workers than CPUs: round the CPUs this process may use
    (1, {0, 1}, [None]),  # fewer: left free, so a worker's learner and fork server use the idle CPU
    (1, {3}, [3]),
])
def test_workers_are_kept_on_cpus_only_when_there_is_one_per_cpu(monkeypatch, jobs, cpus, expected):
    monkeypatch.setattr(worker.os, "sched_getaffinity", lambda pid: cpus, raising=False)
    assert worker.worker_cpus(jobs) == expected


def test_workers_are_left_free_where_cpus_cannot_be_chosen(monkeypatch):
    monkeypatch.delattr(worker.os, "sched_getaffinity", raising=False)
    assert worker.worker_cpus(2) == [None, None]


class FakeWorker:
    """A warm worker that records the CPU it was given and must be replaced after each grading."""

    made: list[FakeWorker] = []

    def __init__(self, options, batch_key, scratch, cpu=None) -> None:
        self.cpu, self.replace = cpu, None
        FakeWorker.made.append(self)

    def grade(self, submission, out_file, cancelled) -> str | None:
        self.replace = "it was disturbed"
        return "it was disturbed"

    def close(self, kill: bool = False) -> None:
        pass


def test_a_batch_starts_its_workers_on_their_cpus_and_a_replacement_takes_over_its_cpu(tmp_path, monkeypatch,
                                                                                        capsys):
    monkeypatch.setattr(worker, "WarmWorker", FakeWorker)
    monkeypatch.setattr(worker, "worker_cpus", lambda jobs: [7, 8][:jobs])
    FakeWorker.made = []
    room = tmp_path / "class"
    write_class(room, ["ann", "ben", "cat", "dan"], LAB2.solution_path.read_text())
    assert cli.main(["grade-many", str(room), "--lab", "2", "--out", str(tmp_path / "out"), "--jobs", "2",
                     "--seed", "3"]) == 3  # every grading was "disturbed": no grade
    assert Counter(w.cpu for w in FakeWorker.made) == {7: 2, 8: 2}


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two CPUs to choose from")
def test_a_worker_kept_on_a_cpu_keeps_its_fork_server_and_learners_there(tmp_path):
    cpu = max(os.sched_getaffinity(0))
    write_class(tmp_path / "class", ["ann"], LAB2.solution_path.read_text())
    options = worker.Options(labs=[LAB2], lab_arg="2", seed=3, timeout=30.0, jobs=2)
    scratch = tmp_path / "worker"
    scratch.mkdir()
    warm_worker = worker.WarmWorker(options, "k" * 64, scratch, cpu=cpu)
    try:
        submission = Submission("ann", tmp_path / "class" / "ann")
        assert warm_worker.grade(submission, tmp_path / "result.json", None) is None
        tree = worker.process_tree(warm_worker.proc.pid)
        # the worker, and what it started: its fork server (none with MLALAB_FORK_SERVER=0) and a learner process
        assert len(tree) >= 2, tree
        threads = [int(t) for t in os.listdir(f"/proc/{warm_worker.proc.pid}/task")]
        assert {pid: os.sched_getaffinity(pid) for pid in tree + threads} == {pid: {cpu} for pid in tree + threads}
    finally:
        warm_worker.close()


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs Linux")
@pytest.mark.parametrize("cpu", ["4096", "one", "-1", ""])
def test_a_cpu_that_cannot_be_had_leaves_the_worker_to_the_scheduler(cpu):
    before = os.sched_getaffinity(0)
    warm.keep_on_cpu(cpu)
    assert os.sched_getaffinity(0) == before


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two CPUs to choose from")
def test_keep_on_cpu_pins_every_thread_of_the_process():
    """Threads started before the call are pinned too: os.sched_setaffinity(0, ...) pins only the caller."""
    script = ("import json, os, threading, time\nfrom mlalab import warm\n"
              "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
              "warm.keep_on_cpu(os.environ['CPU'])\n"
              "print(json.dumps([sorted(os.sched_getaffinity(int(t))) for t in os.listdir('/proc/self/task')]))\n")
    cpu = max(os.sched_getaffinity(0))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**os.environ, "CPU": str(cpu)}, timeout=60)
    assert json.loads(done.stdout) == [[cpu], [cpu]]


def test_the_default_jobs_are_the_cpus_this_process_may_use_not_the_machines(tmp_path, monkeypatch, capsys):
    """In a container given 2 of a host's 64 CPUs, os.cpu_count() says 64: 64 workers of ~350 MB each."""
    monkeypatch.setattr(worker.os, "sched_getaffinity", lambda pid: {4, 9}, raising=False)
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 64)
    assert worker.default_jobs() == 2

    class Started(Exception):
        """Raised by the batch in place of grading: what the CLI asked of it is all this test needs."""

    def run(paths, out, options, **kwargs):
        raise Started(options.jobs)

    monkeypatch.setattr(batch_package, "run", run)
    write_class(tmp_path / "class", ["ann"], LAB2.starter_text())
    with pytest.raises(Started) as started:
        cli.main(["grade-many", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--lab", "2"])
    assert started.value.args == (2,)
    monkeypatch.delattr(worker.os, "sched_getaffinity", raising=False)
    assert worker.default_jobs() == 64  # where the share cannot be asked, the machine's count
