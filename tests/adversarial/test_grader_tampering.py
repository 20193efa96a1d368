"""Learner code that goes after the grader itself: its code in memory, its files on disk, the
reference solutions. None of it may earn a point, and the report names each attempt."""

from __future__ import annotations

import botocore
import pytest

from mlalab.catalog import find_lab
from tests.adversarial import (
    HEADER,
    LAB2,
    PROJECT_ROOT,
    SIGNATURE,
    TRY,
    assert_refused,
    grade_lab,
    isolation,
    process_only,
    sha256,
    solution_source,
)
from tests.conftest import apply, failing

ROLE_ARN = "    return f'arn:aws:iam::123456789012:role/{role_name}'\n"


# --- 1. monkeypatching the checks, pytest or the grading engine ----------------------------------

@pytest.mark.parametrize(("cheat", "package"), [
    ("import checks\nchecks.require = lambda *args, **kwargs: None\n", "checks"),
    ("import mlalab.checking\nmlalab.checking.require = lambda *args, **kwargs: None\n", "mlalab"),
    ("import pytest\npytest.fail = lambda *args, **kwargs: None\n", "pytest"),
    ("import mlalab.grading\nmlalab.grading.lab_result = lambda *args, **kwargs: None\n", "mlalab"),
])
def test_monkeypatching_the_grader_is_refused_and_earns_nothing(tmp_path, cheat, package):
    result = grade_lab(tmp_path, cheat + SIGNATURE + ROLE_ARN)
    assert result.score == 0
    assert_refused(result, f"import the grader ({package}): the checks run in a separate process that your "
                           "code cannot reach or change")
    assert any(p.startswith("lab02.py could not be imported: the module raised PermissionError at lab02.py "
                            "line 1") for p in result.problems), result.problems


def test_every_grader_package_and_back_door_is_refused(tmp_path):
    source = HEADER + TRY + '''
import importlib, importlib.util
attempt("_pytest", lambda: importlib.import_module("_pytest.outcomes"))
attempt("fixtures", lambda: __import__("fixtures.scenarios"))
attempt("moto", lambda: exec("from moto import mock_aws"))
attempt("sys.modules", lambda: sys.modules.__setitem__("checks", type(sys)("checks")))
attempt("spec", lambda: importlib.util.spec_from_file_location("core", {core!r}).loader.exec_module(
    type(sys)("core")))
attempt("ctypes", lambda: __import__("ctypes"))
attempt("dotted ctypes", lambda: importlib.util.module_from_spec(importlib.util.find_spec("_ctypes")))
attempt("subinterpreter", lambda: __import__("_xxsubinterpreters"))
attempt("gc", lambda: __import__("gc").get_objects())
attempt("readline", lambda: __import__("readline"))
'''.format(core=str(PROJECT_ROOT / "checks" / "core.py")) + SIGNATURE + ROLE_ARN
    result = grade_lab(tmp_path, source)
    assert result.score == 0
    assert_refused(result, "import the grader (_pytest)", "import the grader (fixtures)", "import the grader (moto)",
                   "import ctypes (native code can escape the sandbox)", "import _ctypes (native code",
                   "import _xxsubinterpreters (it runs code without the sandbox's checks)",
                   "search the interpreter's memory (gc.get_objects)",
                   "import readline (it reads files without the sandbox's checks)")
    # Replacing sys.modules entries in the learner's own process changes nothing in the grader;
    # the grader's source files do not even exist inside the sandbox.
    assert "sys.modules: DONE" in result.output
    assert "spec: FAILED FileNotFoundError" in result.output or "spec: FAILED PermissionError" in result.output


# --- 8. reading or importing the reference solution ---------------------------------------------

def test_reading_or_importing_the_reference_solution_is_refused(tmp_path):
    solution = LAB2.solution_path
    source = HEADER + TRY + '''
import importlib.util
attempt("open", lambda: print(open({solution!r}).read()[:80]))
def load():
    spec = importlib.util.spec_from_file_location("reference", {solution!r})
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    globals()["create_training_role"] = module.create_training_role
attempt("importlib", load)
attempt("sys.path", lambda: (sys.path.insert(0, {folder!r}), __import__("solution")))
attempt("listdir", lambda: print(os.listdir({folder!r})))
'''.format(solution=str(solution), folder=str(solution.parent)) + '''
if "create_training_role" not in globals():
''' + "    " + SIGNATURE + "        return None\n"
    result = grade_lab(tmp_path, source)
    assert result.score == 0
    assert_refused(result, f"read {solution} (the reference solutions are not part of your submission)")
    assert "open: FAILED PermissionError" in result.output and "importlib: FAILED PermissionError" in result.output
    assert "BEGIN SOLUTION" not in result.output


# --- 13. tampering with the grader's files on disk ----------------------------------------------

def test_overwriting_the_graders_files_is_refused_and_changes_nothing(tmp_path):
    targets = {
        "checks": PROJECT_ROOT / "checks" / "cloudwatch.py",
        "lab test": PROJECT_ROOT / "labs" / "01_endpoint_alarms" / "test_lab.py",
        "venv": __import__("pathlib").Path(botocore.__file__),
    }
    before = {label: (path, path.read_bytes(), sha256(path)) for label, path in targets.items()}
    source = HEADER + TRY + "import shutil\n" + "".join(
        f'attempt("{label} write", lambda: open({str(path)!r}, "w").write("def require(*a, **k): pass\\n"))\n'
        f'attempt("{label} append", lambda: open({str(path)!r}, "a").write("\\nrequire = print\\n"))\n'
        f'attempt("{label} remove", lambda: os.remove({str(path)!r}))\n'
        f'attempt("{label} chmod", lambda: os.chmod({str(path)!r}, 0o777))\n'
        for label, path in targets.items()) + (
        f'attempt("rename", lambda: os.rename({str(targets["checks"])!r}, "stolen.py"))\n'
        f'attempt("copy", lambda: shutil.copyfile("lab02.py", {str(targets["venv"])!r}))\n'
    ) + SIGNATURE + ROLE_ARN
    try:
        result = grade_lab(tmp_path, source)
    finally:
        changed = [label for label, (path, data, digest) in before.items()
                   if not path.exists() or sha256(path) != digest]
        for label in changed:  # never leave a broken grader behind, even when this test fails
            before[label][0].write_bytes(before[label][1])
    assert changed == []
    assert result.score == 0
    for label, path in targets.items():
        assert_refused(result, f"write to {path} (only files in its own sandbox folder can be changed)",
                       f"change {path} (only files in its own sandbox folder can be changed)")
        assert f"{label} write: DONE" not in result.output
    if isolation() == "linux-namespaces":
        # The hook only reports there: the kernel refuses. The venv is there but read-only; the
        # project's files do not exist at all.
        assert "venv write: FAILED OSError: [Errno 30] Read-only file system" in result.output
        assert "checks write: FAILED FileNotFoundError" in result.output
    else:  # the audit hook refuses first (chroot-seccomp's kernel layer: test_chroot_seccomp, white-box)
        for label, path in targets.items():
            assert (f"{label} write: FAILED PermissionError: mla-labs sandbox: your code tried to write to {path} "
                    in result.output), result.output


# --- 15. hostile code combined with a correct solution ------------------------------------------

def test_correct_solution_plus_grader_patching_earns_what_its_aws_state_deserves(tmp_path):
    cheat = ("try:\n    import checks\n    checks.require = lambda *a, **k: None\nexcept Exception:\n"
             "    pass\n")
    result = grade_lab(tmp_path, cheat + solution_source())
    assert result.score == result.max_score == 16  # the role really is right: every point is deserved
    assert_refused(result, "import the grader (checks)")


def test_exiting_in_the_last_function_earns_exactly_the_checks_whose_functions_ran(tmp_path):
    lab01 = find_lab(1)
    reference = lab01.solution_path.read_text()
    anchor = '    boto3.client("cloudwatch").put_composite_alarm(\n'
    honest = apply(reference, [(anchor, "    return None\n" + anchor)])
    hostile = apply(reference, [(anchor, "    import os; os._exit(0)\n" + anchor)])
    fair = grade_lab(tmp_path, honest, lab=lab01, name="honest")
    cheat = grade_lab(tmp_path, hostile, lab=lab01, name="hostile")
    assert failing(cheat) == failing(fair) and "pager-composite" in failing(cheat)
    assert cheat.score == fair.score < cheat.max_score
    assert ("the learner process ended early while running create_pager_alarm (exit code 0): something called "
            "sys.exit() or os._exit(). Later functions were not called.") in cheat.problems


def test_writes_outside_the_sandbox_are_refused_in_the_process_only_fallback(tmp_path, monkeypatch):
    """Without namespaces nothing in the kernel stops a write the grader's user may make: the audit
    hook refuses it, also through a symlink, a rename, a hard link or a folder's descriptor.
    (Decoys stand in for the grader's files: a failure here must not break the project.)"""
    process_only(monkeypatch)
    decoys = tmp_path / "grader"
    decoys.mkdir()
    checks = decoys / "cloudwatch.py"
    checks.write_text("def require(verdict):\n    assert verdict\n")
    results = decoys / "results.json"
    digest = sha256(checks)
    source = HEADER + TRY + f'''
CHECKS, RESULTS, FOLDER = {str(checks)!r}, {str(results)!r}, {str(decoys)!r}
def dir_fd():
    fd = os.open(FOLDER, os.O_RDONLY)
    os.write(os.open("cloudwatch.py", os.O_WRONLY | os.O_TRUNC, dir_fd=fd), b"require = print")
attempt("write", lambda: open(CHECKS, "w").write("require = print"))
attempt("fake results", lambda: open(RESULTS, "w").write('{{"score": 16}}'))
attempt("symlink", lambda: (os.symlink(CHECKS, "link.py"), open("link.py", "w").write("require = print")))
attempt("hard link", lambda: os.link(CHECKS, "hard.py"))
attempt("rename", lambda: os.rename(CHECKS, "stolen.py"))
attempt("dir_fd", dir_fd)
attempt("chdir", lambda: (os.chdir(FOLDER), open("cloudwatch.py", "a").write("require = print")))
''' + SIGNATURE + ROLE_ARN
    result = grade_lab(tmp_path, source)
    assert sha256(checks) == digest and not results.exists()
    assert result.score == 0
    assert "DONE" not in result.output, result.output
    assert_refused(result, f"write to {checks} (only files in its own sandbox folder can be changed)",
                   f"write to {results}", f"change {checks}",
                   f"open the folder {decoys} (only its own sandbox folder can be opened as a folder)")


def test_ctypes_reached_through_a_preloaded_library_is_refused(tmp_path):
    """numpy is imported before the audit hook for a file that imports it (child.preload_for) and keeps a
    reference to ctypes: reaching ctypes through it must not reach native code."""
    pytest.importorskip("numpy")
    source = HEADER + "import numpy\n" + TRY + '''
ct = numpy._core._internal.ctypes
attempt("dlopen", lambda: ct.CDLL(None))
attempt("libc", lambda: ct.cdll.LoadLibrary("libc.so.6"))
attempt("pythonapi", lambda: ct.pythonapi.Py_GetVersion)
attempt("memory", lambda: ct.string_at(id(0), 8))
attempt("import again", lambda: __import__("ctypes"))
''' + SIGNATURE + ROLE_ARN
    result = grade_lab(tmp_path, source)
    assert result.score == 0
    assert_refused(result, "use ctypes (native code can escape the sandbox)",
                   "import ctypes (native code can escape the sandbox)")
    for label in ("dlopen", "libc", "pythonapi", "memory", "import again"):
        assert f"{label}: DONE" not in result.output, result.output
