"""The lab format: metadata is complete, the starter is generated from the reference and can never
drift from it, and lab numbers resolve the way learners type them."""

import ast
import shutil

import pytest

from mlalab.catalog import CatalogError, UnknownLab, find_lab, lab_for_test_module, load_labs, make_starter, skill_row

LABS = load_labs()


def signatures(source: str) -> dict[str, tuple[str, ...]]:
    tree = ast.parse(source)
    return {node.name: tuple(a.arg for a in node.args.args) for node in tree.body
            if isinstance(node, ast.FunctionDef)}


def test_make_starter_cuts_solution_blocks():
    solution = "def f(x):\n    '''doc'''\n    # BEGIN SOLUTION\n    return x * 2\n    # END SOLUTION\n"
    assert make_starter(solution) == ("def f(x):\n    '''doc'''\n    # TODO: write this part (see the lab's "
                                      "README.md)\n    raise NotImplementedError\n")


def test_make_starter_keeps_starter_lines():
    solution = "def f():\n    # BEGIN SOLUTION\n    # STARTER: return None\n    return 42\n    # END SOLUTION\n"
    assert make_starter(solution) == "def f():\n    return None\n"


@pytest.mark.parametrize("bad, error", [
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n", "nested # BEGIN SOLUTION"),
    ("# END SOLUTION\n", "# END SOLUTION without # BEGIN SOLUTION"),
    ("# BEGIN SOLUTION\nx = 1\n", "# BEGIN SOLUTION without # END SOLUTION"),
])
def test_make_starter_rejects_broken_markers(bad, error):
    with pytest.raises(CatalogError, match=error):
        make_starter(bad)


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.slug)
def test_lab_folder_is_complete(lab):
    for name in ("lab.yaml", "README.md", "solution.py", "test_lab.py"):
        assert (lab.path / name).is_file(), f"{lab.slug} lacks {name}"
    assert lab.task in {"4.1", "4.2", "4.3"}
    assert lab.skills and lab.services and lab.hints and lab.summary and lab.minutes > 0
    assert all(c.points > 0 for c in lab.checks)
    assert len({c.id for c in lab.checks}) == len(lab.checks)
    assert all(c.function is None or c.function in {f.name for f in lab.functions} for c in lab.checks)
    readme = lab.instructions_path.read_text()
    assert f"Exam task {lab.task}" in readme and lab.title in readme


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.slug)
def test_starter_and_reference_agree_with_metadata(lab):
    declared = {f.name: f.params for f in lab.functions}
    starter, solution = lab.starter_text(), lab.solution_path.read_text()
    assert "SOLUTION" not in starter
    assert {k: v for k, v in signatures(solution).items() if k in declared} == declared
    assert {k: v for k, v in signatures(starter).items() if k in declared} == declared
    # Outside the marked blocks the starter is the reference, line for line.
    kept = [line for line in starter.splitlines() if "NotImplementedError" not in line and "TODO" not in line]
    assert all(line in solution.splitlines() for line in kept)


@pytest.mark.parametrize("token", ["1", "01", "lab01", "lab-1", "LAB_1", "01_endpoint_alarms", " 1 "])
def test_find_lab_accepts_what_learners_type(token):
    assert find_lab(token).id == 1


@pytest.mark.parametrize("token", ["0", "99", "one", "", "1.5", "-1"])
def test_unknown_labs(token):
    with pytest.raises(UnknownLab, match="there is no lab"):
        find_lab(token)


def test_find_lab_in_another_labs_folder(tmp_path):
    lab = find_lab(2)
    shutil.copytree(lab.path, tmp_path / "07_copy", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "07_copy" / "lab.yaml").write_text(lab.path.joinpath("lab.yaml").read_text().replace("id: 2", "id: 7"))
    assert find_lab("7", tmp_path).path == tmp_path / "07_copy"
    with pytest.raises(UnknownLab):
        find_lab("2", tmp_path)
    # The grader of a lab outside the project's labs/ is found by its folder (how a scaffold grades).
    assert lab_for_test_module(tmp_path / "07_copy" / "test_lab.py").id == 7
    with pytest.raises(CatalogError, match="is not inside a lab folder"):
        lab_for_test_module(tmp_path / "test_lab.py")


@pytest.mark.parametrize("skill, row", [
    ("4.3 S2: Configuring IAM policies and roles", ("4.3", "S2")),
    ("4.1 K10: a tenth knowledge area", ("4.1", "K10")),
    ("  4.2 K1: trimmed ", ("4.2", "K1")),
    ("4.3 Configuring IAM policies and roles", None),  # no row id
    ("4.3 S2", None),  # no words for what the lab trains of it
    ("4.4 S1: not a Domain 4 task", None),
    ("4.3 X1: not a kind of row", None),
    ("4.3 S0: rows count from 1", None),
])
def test_skill_row(skill, row):
    assert skill_row(skill) == row
