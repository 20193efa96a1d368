"""Learner code that fights the process it runs in: exits early, never returns, eats memory, or
starts processes meant to outlive the grading. No points, plain words, nothing left running."""

from __future__ import annotations

import tempfile
import time

import pytest

from tests.adversarial import (
    HEADER,
    SIGNATURE,
    TRY,
    assert_refused,
    grade_lab,
    marker,
    needs_kernel_boundary,
    process_only,
    survivors,
)

ROLE_ARN = "    return f'arn:aws:iam::123456789012:role/{role_name}'\n"


# --- 3. exiting early -----------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "words"), [
    (HEADER + "sys.exit(0)\n" + SIGNATURE + ROLE_ARN,
     "lab02.py called sys.exit(0) while it was being imported at lab02.py line 4  ->  sys.exit(0): a lab file "
     "must only define its functions, not exit the process. No function could be called."),
    (HEADER + "os._exit(0)\n" + SIGNATURE + ROLE_ARN,
     "the learner process ended early while your file was being imported (exit code 0): something called "
     "sys.exit() or os._exit(). Later functions were not called."),
    (HEADER + SIGNATURE + "    sys.exit(0)\n",
     "create_training_role called sys.exit(0) at lab02.py line 6  ->  sys.exit(0): lab functions must return, "
     "not exit the process; the grader carried on with the next function"),
    (HEADER + SIGNATURE + "    os._exit(0)\n",
     "the learner process ended early while running create_training_role (exit code 0): something called "
     "sys.exit() or os._exit(). Later functions were not called."),
], ids=["sys.exit-at-import", "os._exit-at-import", "sys.exit-in-function", "os._exit-in-function"])
def test_exiting_early_earns_nothing_and_says_so(tmp_path, source, words):
    result = grade_lab(tmp_path, source)
    assert result.score == 0
    assert words in result.problems, result.problems
    assert all(check.status == "fail" for check in result.checks)


# --- 5. an infinite loop --------------------------------------------------------------------------

def test_an_endless_loop_is_stopped_at_the_time_limit(tmp_path):
    source = HEADER + "import signal\n" + SIGNATURE + (
        "    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
        "        signal.signal(sig, signal.SIG_IGN)\n"
        "    while True:\n"
        "        try:\n"
        "            pass\n"
        "        except BaseException:\n"
        "            pass\n")
    started = time.monotonic()
    result = grade_lab(tmp_path, source, timeout=5)
    # The message below is written only when the 5 s limit expired; that grading returned at all
    # shows the loop was killed (it ignores SIGTERM and never ends). The bound only catches a kill
    # that hangs, with room for a busy machine: 5 s limit + 5 s kill grace + start-up.
    assert time.monotonic() - started < 60
    assert result.score == 0
    assert result.problems == [
        "your code did not finish within 5 s while running create_training_role and was stopped: look for a loop "
        "that never ends or a waiter without a time limit. Functions after it were not called."]


# --- 6. a memory bomb -----------------------------------------------------------------------------

def test_a_memory_bomb_in_a_function_hits_the_memory_limit(tmp_path):
    source = HEADER + SIGNATURE + "    hoard = []\n    while True:\n        hoard.append(bytearray(64 << 20))\n"
    result = grade_lab(tmp_path, source)
    assert result.score == 0
    assert ("create_training_role ran out of memory at lab02.py line 8  ->  hoard.append(bytearray(64 << 20)) "
            "(the lab's memory limit was reached)") in result.problems, result.problems


def test_a_memory_bomb_at_import_hits_the_memory_limit(tmp_path):
    result = grade_lab(tmp_path, HEADER + "HOARD = b'x' * (64 << 30)\n" + SIGNATURE + ROLE_ARN)
    assert result.score == 0
    assert result.problems == [
        "lab02.py could not be imported: the module ran out of memory at lab02.py line 4  ->  "
        "HOARD = b'x' * (64 << 30) (the lab's memory limit was reached). No function could be called."]


# --- 7. processes that outlive the function -------------------------------------------------------

def spawning_source(tag: str) -> str:
    sleeper = f'[sys.executable, "-c", "import time; time.sleep(300)", "{tag}"]'
    return HEADER + TRY + f'''
import importlib, importlib.util, subprocess, threading, time
SLEEPER = {sleeper}
def fork_exec_args(argv):
    r, w = os.pipe()
    return ([os.fsencode(a) for a in argv], [os.fsencode(argv[0])], True, (w,), None, None,
            -1, -1, -1, -1, -1, -1, r, w, True, True, -1, None, None, None, -1, None, False)
def fresh_posixsubprocess():
    return importlib.util.module_from_spec(importlib.util.find_spec("_posixsubprocess"))
def reloaded_posixsubprocess():
    return importlib.reload(sys.modules["_posixsubprocess"])
def fork():
    if os.fork() == 0:
        time.sleep(300)
def spawn_everything():
    attempt("fork", fork)
    attempt("posix_spawn", lambda: os.posix_spawn(SLEEPER[0], SLEEPER, dict(os.environ)))
    attempt("Popen", lambda: subprocess.Popen(SLEEPER, start_new_session=True))
    attempt("system", lambda: os.system("sleep 300 &"))
    attempt("fork_exec", lambda: subprocess._fork_exec(*fork_exec_args(SLEEPER)))
    attempt("module fork_exec", lambda: sys.modules["_posixsubprocess"].fork_exec(*fork_exec_args(SLEEPER)))
    attempt("imported fork_exec", lambda: __import__("_posixsubprocess").fork_exec(*fork_exec_args(SLEEPER)))
    attempt("subprocess._posixsubprocess", lambda: getattr(subprocess, "_posixsubprocess",
                                                           sys.modules["_posixsubprocess"]).fork_exec(
        *fork_exec_args(SLEEPER)))
    attempt("fresh fork_exec", lambda: fresh_posixsubprocess().fork_exec(*fork_exec_args(SLEEPER)))
    attempt("reloaded fork_exec", lambda: reloaded_posixsubprocess().fork_exec(*fork_exec_args(SLEEPER)))
    attempt("multiprocessing", lambda: __import__("multiprocessing").Process(target=time.sleep, args=(300,)).start())
    threading.Thread(target=time.sleep, args=(300,)).start()  # a non-daemon thread: must not keep us waiting
spawn_everything()
''' + SIGNATURE + "    spawn_everything()\n" + ROLE_ARN


def assert_nothing_survived(result, tag: str) -> None:
    assert result.score == 0
    assert survivors(tag) == []
    assert_refused(result, "fork a child process", "spawn a process", "start a subprocess",
                   "run a shell command", "start a subprocess (fork_exec)",
                   "import _posixsubprocess (it starts processes without the sandbox's checks)")
    assert "DONE" not in result.output.replace("attempt", ""), result.output


def test_processes_started_by_learner_code_do_not_survive_grading(tmp_path):
    tag = marker()
    result = grade_lab(tmp_path, spawning_source(tag))
    # Neither the non-daemon thread nor any child kept the run alive: had they, the run would have
    # waited out the time limit and the report would say so.
    assert not any("did not finish within" in problem for problem in result.problems), result.problems
    assert_nothing_survived(result, tag)


def test_processes_do_not_survive_in_the_process_only_fallback_either(tmp_path, monkeypatch):
    process_only(monkeypatch)
    tag = marker()
    result = grade_lab(tmp_path, spawning_source(tag))
    assert_nothing_survived(result, tag)


# --- what learner code leaves on disk -------------------------------------------------------------

@pytest.mark.parametrize("fallback", [False, True], ids=["active", "process"])
def test_files_left_by_learner_code_never_break_grading_nor_stay_on_disk(tmp_path, monkeypatch, fallback):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where LearnerProcess makes its sandbox folders
    if fallback:
        process_only(monkeypatch)
    source = HEADER + SIGNATURE + (
        "    home = os.getcwd()\n"
        "    for _ in range(1100):  # deeper than shutil.rmtree's recursion can go\n"
        "        os.mkdir('d')\n"
        "        os.chdir('d')\n"
        "    os.chdir(home)\n"
        "    os.chmod('d', 0)\n") + ROLE_ARN
    result = grade_lab(tmp_path, source)
    assert result.status == "fail" and all(check.status == "fail" for check in result.checks)
    assert list(scratch.iterdir()) == []


def test_one_file_cannot_exceed_the_file_size_limit(tmp_path):
    """``RLIMIT_FSIZE`` (32 MiB) in every isolation: a bigger file is cut off with EFBIG."""
    source = HEADER + SIGNATURE + "    open('big', 'wb').write(b'x' * (40 << 20))\n" + ROLE_ARN
    result = grade_lab(tmp_path, source)
    assert result.score == 0
    assert any("create_training_role raised OSError" in p and "File too large" in p for p in result.problems), \
        result.problems


def test_the_learners_folder_cannot_fill_the_machines_disk(tmp_path, monkeypatch):
    # A known gap of the other levels (docs/security.md): their folder is on the machine's disk.
    needs_kernel_boundary("linux-namespaces", why="the learner's folder is a 64 MiB tmpfs only there")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    source = HEADER + SIGNATURE + (
        "    for i in range(40):\n        open(f'blob{i}', 'wb').write(b'x' * (8 << 20))\n") + ROLE_ARN
    result = grade_lab(tmp_path, source)
    assert result.score == 0
    assert any("No space left on device" in p for p in result.problems), result.problems
    assert list(scratch.iterdir()) == []
