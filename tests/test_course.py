"""One list of what a course consists of (``mlalab.course``), used everywhere it matters."""

from __future__ import annotations

import ast
import tomllib

from mlalab import course
from mlalab.catalog import PROJECT_ROOT
from mlalab.formats import gradescope


def test_pyproject_packages_are_the_course_packages():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    included = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(pattern.rstrip("*") for pattern in included) == sorted(course.PACKAGES)


def test_every_course_directory_exists_and_packages_are_importable():
    for name in course.DIRECTORIES:
        assert (PROJECT_ROOT / name).is_dir(), name
    for name in course.PACKAGES:
        assert (PROJECT_ROOT / name / "__init__.py").is_file(), name


def test_gradescope_package_ships_every_course_directory():
    assert set(course.DIRECTORIES) <= set(gradescope.PROJECT_ENTRIES)


def test_the_sandbox_child_holds_no_list_of_its_own():
    """child.py runs in the jail without mlalab: the grader sends it the list in the job."""
    tree = ast.parse((PROJECT_ROOT / "mlalab" / "sandbox" / "child.py").read_text())
    literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not {"checks", "fixtures"} & literals


def test_the_harness_does_not_import_the_course_content():
    """mlalab/ owns the contract with checks (mlalab.checking); it never imports checks/ or a lab."""
    offenders = []
    for path in (PROJECT_ROOT / "mlalab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.relative_to(PROJECT_ROOT)}: {n}" for n in names if n.split(".")[0] == "checks"]
    assert offenders == []


def test_engines_import_nothing_from_moto():
    """Engines are pure: no moto, no AWS client, no course content. (botocore's service models are
    data, which the request-validation engine reads.)"""
    offenders = []
    for path in (PROJECT_ROOT / "mlalab" / "engines").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.relative_to(PROJECT_ROOT)}: {n}" for n in names
                          if n.split(".")[0] in ("moto", "boto3", "fixtures", "checks")]
    assert offenders == []
