"""The same hostile submissions in every isolation this machine provides (issue 12), in one module
that ``make test`` runs: a cheap proof that each level holds, without running the whole
adversarial suite three times (CI does that too: ``.ci/run`` forces each level with
``MLALAB_ISOLATION``; docs/security.md says how).

Per level, one grading session grades three submissions of lab 2: the reference solution (every
point, and the level is stated), a hostile file that attacks the grader (no point), and the same
attacks prepended to the reference solution (every point it deserves, no more: the attacks neither
break nor inflate a grading). What may differ between levels is only *which layer* refuses (the
audit hook's words, or the kernel's); what is asserted in every level: the points, the refusals
that the hook names, nothing reaching the grader's files, network, processes or secrets.
"""

from __future__ import annotations

import socket
import threading

import pytest

from mlalab.grading import grade_each
from mlalab.sandbox import process
from mlalab.sandbox.isolation import LEVELS, IsolationUnavailable, choose_isolation
from tests.adversarial import HEADER, LAB2, REFUSED, TRY, marker, sha256, solution_source, survivors

SECRET = "mode-signing-key-0d1f2a"

ATTACKS = TRY + '''
import os, subprocess, sys
def _attacks():
    attempt("import checks", lambda: __import__("checks").__dict__.update(require=lambda *a, **k: None))
    attempt("read solution", lambda: print(open(SOLUTION).read()[:40]))
    attempt("write decoy", lambda: open(DECOY, "w").write("require = print"))
    attempt("fake results", lambda: open(RESULTS, "w").write('{"score": 16}'))
    attempt("tcp", lambda: __import__("socket").create_connection(("127.0.0.1", PORT), timeout=2).close())
    attempt("signal grader", lambda: os.kill(os.getppid(), 0))
    attempt("orphan", lambda: subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", TAG],
                                                start_new_session=True))
    print("environment", dict(os.environ))
_attacks()
'''


def available(level: str) -> None:
    """Skip, saying why, a level this machine cannot provide (never grade in a weaker one instead)."""
    try:
        choose_isolation(process.namespaces_available)
    except IsolationUnavailable as exc:
        pytest.skip(f"{level} is not available on this machine: {exc}")


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    accepted, closed = [], threading.Event()

    def serve() -> None:
        while not closed.is_set():
            try:
                accepted.append(server.accept()[0].close())
            except OSError:
                continue

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    closed.set()
    server.close()


@pytest.mark.parametrize("start", ["started", "forked"])
@pytest.mark.parametrize("level", list(reversed(LEVELS)))
def test_hostile_submissions_in_every_isolation(tmp_path, monkeypatch, listener, level, start):
    """``start``: each learner process started the ordinary way (cold gradings), or forked by the fork
    server (warm gradings; ``MLALAB_FORK_SERVER=always`` makes these cold gradings use one)."""
    monkeypatch.setenv("MLALAB_FORK_SERVER", "always" if start == "forked" else "0")
    monkeypatch.setenv("MLALAB_ISOLATION", level)
    monkeypatch.setenv("MLALAB_SIGNING_KEY", SECRET)
    available(level)
    port, accepted = listener
    decoys = tmp_path / "grader"
    decoys.mkdir()
    decoy, results = decoys / "cloudwatch.py", decoys / "results.json"
    decoy.write_text("def require(verdict):\n    assert verdict\n")
    digest = sha256(decoy)
    tag = marker()
    attacks = ATTACKS
    for name, value in (("SOLUTION", repr(str(LAB2.solution_path))), ("DECOY", repr(str(decoy))),
                        ("RESULTS", repr(str(results))), ("PORT", str(port)), ("TAG", repr(tag))):
        attacks = attacks.replace(name, value)
    sources = {"honest": solution_source(), "hostile": HEADER + attacks + "\n" + LAB2.starter_text(),
               "hostile+honest": attacks + "\n" + solution_source()}
    folders = []
    for name, source in sources.items():
        folder = tmp_path / name.replace("+", "_")
        folder.mkdir()
        (folder / LAB2.workspace_file).write_text(source)
        folders.append(folder)

    graded = dict(zip(sources, (r.labs[0] for r in grade_each(folders, [LAB2], seed=31, timeout=30)), strict=True))

    assert {name: lab.isolation for name, lab in graded.items()} == dict.fromkeys(sources, level)
    assert {name: lab.score for name, lab in graded.items()} == {"honest": 16, "hostile": 0, "hostile+honest": 16}
    assert graded["honest"].problems == []
    # Nothing reached the grader: its files, its network, its processes, its secrets.
    assert sha256(decoy) == digest and not results.exists()
    assert accepted == []
    assert survivors(tag) == []
    for name in ("hostile", "hostile+honest"):
        lab = graded[name]
        said = [p.removeprefix(REFUSED) for p in lab.problems if p.startswith(REFUSED)]
        for words in ("import the grader (checks)", f"read {LAB2.solution_path} (the reference solutions",
                      f"write to {decoy} (only files in its own sandbox folder", f"write to {results}",
                      "start a subprocess", "send a signal"):
            assert any(words in what for what in said), (level, name, words, lab.problems)
        assert ": DONE" not in lab.output, (level, name, lab.output)
        assert "environment {" in lab.output and SECRET not in lab.output
        if level == "chroot-seccomp":  # no inet socket exists there: the kernel refuses before any connect
            assert "tcp: FAILED PermissionError: [Errno 1] Operation not permitted" in lab.output
        else:
            assert any(f"open a network connection to ('127.0.0.1', {port})" in what for what in said), said
