"""The lab catalogue: one folder per lab under ``labs/``, described by its ``lab.yaml``.

``lab.yaml`` is the single source of truth for a lab (like rustlings' info.toml): the CLI's list,
hints, points and the expected function signatures all come from it. The learner's starter is
generated from the reference solution (``solution.py``) by cutting the marked solution blocks, so
the two can never drift; the learner edition ships the generated ``starter.py`` instead.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LABS_DIR = PROJECT_ROOT / "labs"
BEGIN, END, STARTER = "# BEGIN SOLUTION", "# END SOLUTION", "# STARTER:"


class CatalogError(Exception):
    """A lab folder or its metadata is broken (a harness problem, not the learner's)."""


class UnknownLab(Exception):
    """The learner asked for a lab that does not exist."""


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]
    returns: str = "None"

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    points: float
    function: str | None = None  # the learner function whose result this check grades
    hidden: bool = False  # graded in CI, left out of the learner edition


@dataclass(frozen=True)
class Lab:
    id: int
    slug: str  # folder name
    path: Path
    title: str
    task: str
    summary: str  # one line for the README's labs table: what the lab trains
    skills: tuple[str, ...]
    services: tuple[str, ...]
    minutes: int
    functions: tuple[Function, ...]
    checks: tuple[Check, ...]
    hints: tuple[str, ...] = field(default=())
    edition: str = "full"  # "learner" in the learner edition (hidden checks left out of lab.yaml)
    extras: tuple[str, ...] = field(default=())  # optional extras installed on start (mlalab.extras): "sdk"

    @property
    def number(self) -> str:
        return f"{self.id:02d}"

    @property
    def module_name(self) -> str:
        return f"lab{self.number}"

    @property
    def workspace_file(self) -> str:
        return f"{self.module_name}.py"

    @property
    def test_module(self) -> Path:
        return self.path / "test_lab.py"

    @property
    def solution_path(self) -> Path:
        return self.path / "solution.py"

    @property
    def instructions_path(self) -> Path:
        return self.path / "README.md"

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise CatalogError(f"lab {self.number}: no check {check_id!r} in lab.yaml")

    def function(self, name: str) -> Function:
        for f in self.functions:
            if f.name == name:
                return f
        raise CatalogError(f"lab {self.number}: no function {name!r} in lab.yaml")

    def starter_text(self) -> str:
        shipped = self.path / "starter.py"
        if shipped.is_file():  # the learner edition ships it (no solution to generate it from)
            return shipped.read_text()
        return make_starter(self.solution_path.read_text(), self.solution_path)


def is_starter(path: Path, starter: str) -> bool | None:
    """Whether the file at ``path`` is exactly ``starter`` (the project's untouched starter), read as text
    as Python reads source; None when there is no readable file. The one test of "untouched" that the warm
    grader's memo and a batch's shared grades both use."""
    try:
        return path.read_text() == starter
    except (OSError, UnicodeDecodeError):
        return None


def make_starter(solution: str, origin: Path | str = "solution.py") -> str:
    """Cut every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block out of a reference solution.

    Inside a block, lines ``# STARTER: code`` become ``code`` in the starter; a block with none
    becomes ``raise NotImplementedError`` so the untouched starter earns nothing but says why.
    """
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    for number, line in enumerate(solution.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if block is not None:
                raise CatalogError(f"{origin}:{number}: nested {BEGIN}")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if block is None:
                raise CatalogError(f"{origin}:{number}: {END} without {BEGIN}")
            out.extend(block or [f"{indent}# TODO: write this part (see the lab's README.md)",
                                 f"{indent}raise NotImplementedError"])
            block = None
        elif block is not None:
            if stripped.startswith(STARTER):
                block.append(indent + stripped[len(STARTER):].strip())
        else:
            out.append(line)
    if block is not None:
        raise CatalogError(f"{origin}: {BEGIN} without {END}")
    return "\n".join(out) + "\n"


def load_lab(path: Path) -> Lab:
    """One lab folder, read afresh (``load_labs`` caches the whole catalogue)."""
    meta_file = path / "lab.yaml"
    try:
        meta = yaml.load(meta_file.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return Lab(
            id=int(meta["id"]),
            slug=path.name,
            path=path,
            title=str(meta["title"]),
            task=str(meta["task"]),
            summary=str(meta.get("summary", "")),
            skills=tuple(str(s) for s in meta.get("skills", [])),
            services=tuple(str(s) for s in meta.get("services", [])),
            minutes=int(meta.get("minutes", 30)),
            functions=tuple(Function(f["name"], tuple(f.get("params", [])), str(f.get("returns", "None")))
                            for f in meta["functions"]),
            checks=tuple(Check(c["id"], str(c["name"]), float(c["points"]), c.get("function"),
                               bool(c.get("hidden", False))) for c in meta["checks"]),
            hints=tuple(str(h) for h in meta.get("hints", [])),
            edition=str(meta.get("edition", "full")),
            extras=tuple(str(e) for e in meta.get("extras") or []),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"{meta_file}: {type(exc).__name__}: {exc}") from exc


@cache
def load_labs(labs_dir: Path = LABS_DIR) -> tuple[Lab, ...]:
    """The catalogue, read once per process (what grading and the CLI use)."""
    return read_labs(labs_dir)


def read_labs(labs_dir: Path = LABS_DIR) -> tuple[Lab, ...]:
    """The catalogue as it is on disk now (for the tools that change it: ``mlalab dev``)."""
    if not labs_dir.is_dir():
        # labs/ is not a Python package: a plain (non-editable) pip install of mla-labs leaves it out.
        raise CatalogError(f"no labs folder at {labs_dir}: mla-labs must be installed from a checkout of the "
                           "course (pip install -e PATH), not as a plain package")
    try:
        entries = sorted(labs_dir.iterdir())
    except OSError as exc:
        raise CatalogError(f"cannot read the labs folder {labs_dir}: {exc.strerror or exc}") from exc
    labs = [load_lab(p) for p in entries if (p / "lab.yaml").is_file()]
    ids = [lab.id for lab in labs]
    if len(ids) != len(set(ids)):
        raise CatalogError(f"duplicate lab ids in {labs_dir}: {ids}")
    return tuple(labs)


def find_lab(token: str | int, labs_dir: Path = LABS_DIR) -> Lab:
    """Accepts ``1``, ``01``, ``lab01``, ``lab-1`` or the folder name."""
    text = str(token).strip().lower()
    match = re.fullmatch(r"(?:lab[-_]?)?0*(\d+)", text)
    for lab in load_labs(labs_dir):
        if (match and int(match.group(1)) == lab.id) or text == lab.slug:
            return lab
    raise UnknownLab(f"there is no lab {token!r}")


def lab_module(anchor: str | Path, name: str):
    """Import a module that lives in a lab's own folder (its data, its wrong solutions).

    Lab folders (``01_endpoint_alarms``) are not importable package names, and a lab's data belongs
    to the lab, not to a shared module; so a lab file names a sibling by file: ``timelines =
    lab_module(__file__, "timelines")``. The module is registered as ``mlalab_labs.<folder>.<name>``
    (once per process) so dataclasses and tracebacks work as for any module.
    """
    folder = Path(anchor).resolve()
    folder = folder if folder.is_dir() else folder.parent
    safe_folder = re.sub(r"\W", "_", folder.name)
    qualified = f"mlalab_labs.{safe_folder}.{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    path = folder / f"{name}.py"
    if not path.is_file():
        raise CatalogError(f"{folder.name}: no {name}.py in the lab's folder")
    spec = importlib.util.spec_from_file_location(qualified, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[qualified]
        raise
    return module


def lab_for_test_module(path: Path) -> Lab:
    """The lab whose grader ``path`` is: from the catalogue, or read from the module's own folder, so
    a lab outside the project's labs/ (a scaffold being tried out, a copy in a test) grades too."""
    folder = Path(path).resolve().parent
    for lab in load_labs():
        if lab.path.resolve() == folder:
            return lab
    if (folder / "lab.yaml").is_file():
        return load_lab(folder)
    raise CatalogError(f"{path} is not inside a lab folder with a lab.yaml")


# A lab.yaml ``skills`` entry names one row of the exam guide's Domain 4 (``labs/curriculum.yaml``)
# by task and row id, then says in words what the lab trains of it: "4.3 S2: Configuring IAM ...".
# K<n> is the task's n-th knowledge area, S<n> its n-th skill, in the guide's order.
SKILL = re.compile(r"(?P<task>4\.[1-3]) (?P<row>[KS][1-9]\d*): (?P<text>\S.*)")


def skill_row(skill: str) -> tuple[str, str] | None:
    """``("4.3", "S2")`` for ``"4.3 S2: ..."``; None when the entry does not name a row."""
    match = SKILL.fullmatch(skill.strip())
    return (match["task"], match["row"]) if match else None
