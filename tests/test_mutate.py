"""The mutation tester (``make mutate``) on a tiny fake engine: it generates mutants, the engine's
conformance test kills them, an untested line survives, and a documented equivalent mutant is
counted apart from the score."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from mlalab.dev.mutate import (
    Mutant,
    discover_engines,
    engine_mutants,
    main,
    read_survivors_file,
    sample,
)

CORE = '''\
"""A toy engine."""

LIMIT = 3


def is_adult(age: int) -> bool:
    return age >= 18


def clamp(value: int, low: int) -> int:
    if value < low:
        return low
    return value
'''

CONFORMANCE = """\
from toypkg.engines.toy import clamp, is_adult


def test_adult_from_18():
    assert is_adult(18)
    assert not is_adult(17)


def test_clamp_raises_low_values():
    assert clamp(-1, 0) == 0
    assert clamp(3, 0) == 3
"""

# `value < low` -> `value <= low` returns `low` when value == low: the same number.
SURVIVORS = """\
# Equivalent mutants of the toy engine
- toypkg/engines/toy/core.py:11 compare — at value == low both branches return the same number
- toypkg/engines/toy/core.py:99 number — stale: no such line
- not an entry at all
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``toypkg/engines/toy/`` (two files) and ``tests/engines/test_toy_conformance.py``."""
    engine = tmp_path / "toypkg" / "engines" / "toy"
    engine.mkdir(parents=True)
    (tmp_path / "toypkg" / "__init__.py").write_text("")
    (tmp_path / "toypkg" / "engines" / "__init__.py").write_text("")
    (engine / "__init__.py").write_text("from .core import clamp, is_adult\n")
    (engine / "core.py").write_text(CORE)
    tests = tmp_path / "tests" / "engines"
    tests.mkdir(parents=True)
    (tests / "test_toy_conformance.py").write_text(CONFORMANCE)
    return tmp_path


def test_generates_valid_mutants_of_every_operator_it_finds(project: Path) -> None:
    [engine] = discover_engines(project, project / "toypkg" / "engines", project / "tests" / "engines")
    assert engine.package == "toypkg.engines.toy"
    assert [t.name for t in engine.tests] == ["test_toy_conformance.py"]
    mutants = engine_mutants(engine, project)
    found = {(m.line, m.operator, m.mutated) for m in mutants}
    assert found == {
        (3, "number", "LIMIT = 4"),
        (7, "compare", "return age > 18"),
        (7, "number", "return age >= 19"),
        (7, "return", "return None"),
        (11, "compare", "if value <= low:"),
        (11, "delete", "pass"),
        (12, "return", "return None"),
        (13, "return", "return None"),
    }
    source = (project / "toypkg/engines/toy/core.py").read_bytes()
    for mutant in mutants:
        assert ast.dump(ast.parse(mutant.apply(source))) != ast.dump(ast.parse(source)), mutant.key


def test_kills_mutants_reports_a_survivor_and_honours_the_survivors_file(project: Path) -> None:
    (project / "tests" / "engines" / "MUTATION_SURVIVORS_toy.md").write_text(SURVIVORS)
    out = project / "out"
    status = main(["--root", str(project), "--engines-dir", "toypkg/engines", "--out-dir", str(out)])
    report = json.loads((out / "mutation-toy.json").read_text())
    # LIMIT is used by no test: its mutant survives, which puts the score under 95 %.
    assert [(s["line"], s["operator"]) for s in report["survivors"]] == [(3, "number")]
    assert [(e["line"], e["operator"]) for e in report["equivalents"]] == [(11, "compare")]
    assert (report["mutants"], report["killed"], report["survived"], report["equivalent"]) == (8, 6, 1, 1)
    assert report["score"] == pytest.approx(100 * 6 / 7, abs=0.1)
    assert status == 1 and report["passed"] is False
    assert report["stale_entries"] == ["toypkg/engines/toy/core.py:99 number"]
    assert report["malformed_entries"] == ["- not an entry at all"]


def test_keyword_escaped_engine_is_tested_by_its_plain_name(tmp_path: Path) -> None:
    """``lambda_`` (PEP 8's escape of a keyword) is tested by ``test_lambda_*.py``, and a plain
    engine never takes another engine's files (``config`` is not ``configservice``)."""
    engines_dir, tests = tmp_path / "pkg" / "engines", tmp_path / "tests" / "engines"
    for name in ("lambda_", "config"):
        (engines_dir / name).mkdir(parents=True)
        (engines_dir / name / "__init__.py").write_text("")
    tests.mkdir(parents=True)
    for name in ("test_lambda_async.py", "test_lambda__runtime.py", "test_config_rules.py", "test_configservice.py",
                 "test_lambdax_y.py"):
        (tests / name).write_text("")
    found = {e.name: [t.name for t in e.tests] for e in discover_engines(tmp_path, engines_dir, tests)}
    assert found == {"config": ["test_config_rules.py"],
                     "lambda_": ["test_lambda__runtime.py", "test_lambda_async.py"]}


def test_survivors_file_requires_a_known_operator_and_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "MUTATION_SURVIVORS_x.md"
    path.write_text("- a.py:3 compare: same result\n- a.py:4 flip — bad operator\n- a.py:5 number\n")
    entries, malformed = read_survivors_file(path)
    assert list(entries) == ["a.py:3 compare"] and entries["a.py:3 compare"].reason == "same result"
    assert malformed == ["- a.py:4 flip — bad operator", "- a.py:5 number"]


def test_sample_is_reproducible_and_spread_over_the_whole_engine() -> None:
    mutants = [Mutant("e.py", "e", line, "number", "", "", 0, 0, "") for line in range(1, 1001)]
    picked = sample(mutants, 10, seed=7)
    assert picked == sample(mutants, 10, seed=7)
    assert [m.line for m in picked] != [m.line for m in sample(mutants, 10, seed=8)]
    assert [(m.line - 1) // 100 for m in picked] == list(range(10))  # one per tenth of the code
    assert sample(mutants[:5], 10, seed=7) == mutants[:5]
