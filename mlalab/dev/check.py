"""``mlalab dev check``: the whole catalogue keeps the lab contract, checked statically in seconds.

What grading cannot tell a maintainer until a learner trips over it: metadata that is incomplete or
misspelt, a check without its test (or a test without its check), a check no wrong solution proves
(or a wrong solution whose edit no longer matches the reference), a skill that names no row of the
exam guide, a stray file in a lab folder, a README table that no longer says what lab.yaml says.
Grading the reference, the starter and each wrong solution is ``tests/labs/test_every_lab.py``'s job.
"""

from __future__ import annotations

import ast
import keyword
import re
import runpy
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mlalab.catalog import SKILL, CatalogError, Lab, load_lab, make_starter
from mlalab.dev import curriculum, readme

TASKS = ("4.1", "4.2", "4.3")
REQUIRED_KEYS = ("id", "title", "summary", "task", "skills", "services", "minutes", "functions", "checks", "hints")
OPTIONAL_KEYS = ("edition", "extras")  # extras: optional packages installed on start (mlalab.extras)
FUNCTION_KEYS, CHECK_KEYS = {"name", "params", "returns"}, {"id", "name", "points", "function", "hidden"}
# A lab folder holds these, plus the .py modules its files load with lab_module(__file__, "name").
LAB_FILES = ("lab.yaml", "README.md", "solution.py", "test_lab.py", "mutations.py", "rewrites.py")
FOLDER = re.compile(r"(\d{2})_([a-z][a-z0-9_]*[a-z0-9])")
IGNORED = {"__pycache__", ".pytest_cache", ".DS_Store"}
# Words too common in the guide's rows to tie a skill's text to its row.
COMMON_WORDS = {"example", "using", "other", "their", "which"}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    labs: list[Lab] = field(default_factory=list)
    trained: set[str] = field(default_factory=set)  # curriculum rows some lab trains ("4.3 S2")
    rows: list[str] = field(default_factory=list)  # every curriculum row

    def add(self, where: Path | str, message: str) -> None:
        self.problems.append(f"{where}: {message}")


def check_catalogue(root: Path) -> Report:
    """Every problem in the catalogue at ``root`` (the project: ``labs/``, ``README.md``)."""
    report = Report()
    labs_dir = root / "labs"
    if not labs_dir.is_dir():
        report.add("labs", "no labs folder")
        return report
    rows = _curriculum(labs_dir, report)
    for entry in sorted(labs_dir.iterdir()):
        where = entry.relative_to(root)
        if entry.name in IGNORED or entry.name == curriculum.CURRICULUM_FILE:
            continue
        if not entry.is_dir():
            report.add(where, f"stray file: labs/ holds lab folders and {curriculum.CURRICULUM_FILE} only")
        elif not (entry / "lab.yaml").is_file():
            report.add(where, "a folder without lab.yaml: every lab folder needs one (not a lab? move it out of labs/)")
        else:
            LabChecker(entry, root, rows, report).run()
    ids = [lab.id for lab in report.labs]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        report.add("labs", f"lab id {duplicate} is used by more than one lab")
    _check_readme(root, report)
    return report


def _curriculum(labs_dir: Path, report: Report) -> dict[str, dict] | None:
    try:
        tasks = curriculum.load(labs_dir)
    except curriculum.CurriculumError as exc:
        report.add(labs_dir.name, str(exc))
        return None
    report.rows = [f"{task_id} {row}" for task_id, task in tasks.items() for row in task["rows"]]
    return tasks


def _check_readme(root: Path, report: Report) -> None:
    path = root / "README.md"
    if not path.is_file():
        report.add("README.md", "missing (it holds the generated labs table)")
        return
    try:
        fresh = readme.is_fresh(path, sorted(report.labs, key=lambda lab: lab.id))
    except readme.ReadmeError as exc:
        report.add("README.md", str(exc))
        return
    if not fresh:
        report.add("README.md", "the labs table is stale: run `mlalab dev readme` (it is generated from lab.yaml)")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{5,}", text.lower())) - COMMON_WORDS


def _is_identifier(value: object) -> bool:
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)


def _check_ids(tree: ast.Module) -> tuple[list[str], list[str]]:
    """The check ids of ``@pytest.mark.check("id")`` tests, and the tests without one."""
    ids, unmarked = [], []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
            continue
        marks = [d.args[0].value for d in node.decorator_list
                 if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "check"
                 and d.args and isinstance(d.args[0], ast.Constant) and isinstance(d.args[0].value, str)]
        if marks:
            ids += marks
        else:
            unmarked.append(node.name)
    return ids, unmarked


def _lab_modules(tree: ast.Module) -> set[str]:
    """The sibling modules a lab file loads with ``lab_module(__file__, "name")``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            func = node.func
            if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) == "lab_module":
                names.add(f"{node.args[1].value}.py")
    return names


class LabChecker:
    """The problems of one lab folder, added to the report."""

    def __init__(self, folder: Path, root: Path, rows: dict[str, dict] | None, report: Report) -> None:
        self.folder, self.root, self.rows, self.report = folder, root, rows, report

    def problem(self, file: str, message: str) -> None:
        self.report.add((self.folder / file).relative_to(self.root), message)

    def run(self) -> None:
        try:
            meta = yaml.safe_load((self.folder / "lab.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            self.problem("lab.yaml", f"unreadable: {exc}")
            return
        if not isinstance(meta, dict):
            self.problem("lab.yaml", "must be a mapping of id, title, task, ...")
            return
        if not self.metadata(meta):
            return
        try:
            lab = load_lab(self.folder)
        except CatalogError as exc:
            self.problem("lab.yaml", str(exc))
            return
        self.report.labs.append(lab)
        self.skills(lab)
        self.instructions(lab)
        self.solution(lab)
        self.tests(lab)
        self.mutations(lab)
        self.stray_files()

    def metadata(self, meta: dict) -> bool:
        """Complete and well-typed; False when too broken to load the lab at all."""
        missing = [key for key in REQUIRED_KEYS if key not in meta]
        for key in missing:
            self.problem("lab.yaml", f"missing {key}")
        for key in sorted(set(meta) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)):
            self.problem("lab.yaml", f"unknown key {key!r} (the keys are {', '.join(REQUIRED_KEYS)})")
        if missing:
            return False
        name = FOLDER.fullmatch(self.folder.name)
        if not isinstance(meta["id"], int) or not name or int(name[1]) != meta["id"]:
            self.problem("lab.yaml", f"id {meta['id']!r} does not match the folder name {self.folder.name!r} "
                         "(labs/NN_slug, NN = id, slug in lowercase letters, digits and _)")
        for key in ("title", "summary"):
            if not isinstance(meta[key], str) or not meta[key].strip():
                self.problem("lab.yaml", f"{key} must be a non-empty text")
        if meta["task"] not in TASKS:
            self.problem("lab.yaml", f"task must be one of {', '.join(TASKS)} (quoted), not {meta['task']!r}")
        for key in ("skills", "services", "hints"):
            value = meta[key]
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                self.problem("lab.yaml", f"{key} must be a non-empty list of texts")
        if not isinstance(meta["minutes"], int) or meta["minutes"] <= 0:
            self.problem("lab.yaml", f"minutes must be a whole number above 0, not {meta['minutes']!r}")
        return self._functions(meta["functions"]) & self._checks(meta["checks"], meta["functions"])

    def _functions(self, functions: object) -> bool:
        if not isinstance(functions, list) or not functions or not all(isinstance(f, dict) for f in functions):
            self.problem("lab.yaml", "functions must be a non-empty list of {name, params}")
            return False
        for f in functions:
            if not _is_identifier(f.get("name")):
                self.problem("lab.yaml", f"function name {f.get('name')!r} is not a Python name")
            if not isinstance(f.get("params"), list) or not all(map(_is_identifier, f["params"])):
                self.problem("lab.yaml", f"function {f.get('name')!r} needs params: a list of parameter names")
            for key in sorted(set(f) - FUNCTION_KEYS):
                self.problem("lab.yaml", f"function {f.get('name')!r}: unknown key {key!r}")
        return True

    def _checks(self, checks: object, functions: list) -> bool:
        if not isinstance(checks, list) or not checks or not all(isinstance(c, dict) for c in checks):
            self.problem("lab.yaml", "checks must be a non-empty list of {id, name, points}")
            return False
        names = {f.get("name") for f in functions if isinstance(f, dict)} if isinstance(functions, list) else set()
        ids = [c.get("id") for c in checks]
        for c in checks:
            if not isinstance(c.get("id"), str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", c["id"]):
                self.problem("lab.yaml", f"check id {c.get('id')!r} must be lowercase words joined by -")
            if ids.count(c.get("id")) > 1:
                self.problem("lab.yaml", f"check id {c.get('id')!r} is declared twice")
            if not isinstance(c.get("name"), str) or not c["name"].strip():
                self.problem("lab.yaml", f"check {c.get('id')!r} needs a name")
            points = c.get("points")
            if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
                self.problem("lab.yaml", f"check {c.get('id')!r} needs points above 0, not {points!r}")
            if "function" in c and c["function"] not in names:
                self.problem("lab.yaml", f"check {c.get('id')!r} grades function {c['function']!r}, which lab.yaml "
                             "does not declare")
            for key in sorted(set(c) - CHECK_KEYS):
                self.problem("lab.yaml", f"check {c.get('id')!r}: unknown key {key!r}")
        return True

    def skills(self, lab: Lab) -> None:
        tasks = set()
        for skill in lab.skills:
            match = SKILL.fullmatch(skill.strip())
            if not match:
                self.problem("lab.yaml", f"skill {skill!r} names no curriculum row: write it as \"4.3 S2: what the "
                             "lab trains of it\" (K<n>/S<n>: the task's n-th knowledge area/skill in "
                             f"labs/{curriculum.CURRICULUM_FILE})")
                continue
            tasks.add(match["task"])
            ref = f"{match['task']} {match['row']}"
            self.report.trained.add(ref)
            if self.rows is None:
                continue
            row = self.rows.get(match["task"], {}).get("rows", {}).get(match["row"])
            if row is None:
                self.problem("lab.yaml", f"skill {skill!r}: the curriculum has no row {ref}")
            elif not _words(match["text"]) & _words(row):
                self.problem("lab.yaml", f"skill {skill!r}: its text shares no word with row {ref} ({row!r}); "
                             "is the row id right?")
        if lab.task not in tasks:
            self.problem("lab.yaml", f"no skill of the lab's own task {lab.task}")

    def instructions(self, lab: Lab) -> None:
        if not lab.instructions_path.is_file():
            self.problem("README.md", "missing (the lab's instructions)")
            return
        text = lab.instructions_path.read_text(encoding="utf-8")
        for needed in (lab.title, f"Exam task {lab.task}"):
            if needed not in text:
                self.problem("README.md", f"does not say {needed!r}")

    def solution(self, lab: Lab) -> None:
        try:
            source = lab.solution_path.read_text(encoding="utf-8")
            make_starter(source, lab.solution_path)
            tree = ast.parse(source)
        except OSError:
            self.problem("solution.py", "missing (the reference solution)")
            return
        except (CatalogError, SyntaxError) as exc:
            self.problem("solution.py", str(exc))
            return
        defined = {node.name: [a.arg for a in node.args.args]
                   for node in tree.body if isinstance(node, ast.FunctionDef)}
        for function in lab.functions:
            if function.name not in defined:
                self.problem("solution.py", f"does not define {function.signature()}")
            elif tuple(defined[function.name]) != function.params:
                self.problem("solution.py", f"{function.name}({', '.join(defined[function.name])}) differs from "
                             f"lab.yaml's {function.signature()}")

    def tests(self, lab: Lab) -> None:
        try:
            tree = ast.parse(lab.test_module.read_text(encoding="utf-8"))
        except OSError:
            self.problem("test_lab.py", "missing (the grader)")
            return
        except SyntaxError as exc:
            self.problem("test_lab.py", f"syntax error: {exc}")
            return
        ids, unmarked = _check_ids(tree)
        declared = [c.id for c in lab.checks]
        for name in unmarked:
            self.problem("test_lab.py", f"{name} has no @pytest.mark.check(\"id\"): every test grades one check")
        for check_id in declared:
            if check_id not in ids:
                self.problem("test_lab.py", f"no test for check {check_id!r}")
        for check_id in sorted(set(ids)):
            if check_id not in declared:
                self.problem("test_lab.py", f"a test grades {check_id!r}, which lab.yaml does not declare")
            elif ids.count(check_id) > 1:
                self.problem("test_lab.py", f"{ids.count(check_id)} tests grade {check_id!r}; one test per check")

    def mutations(self, lab: Lab) -> None:
        path = self.folder / "mutations.py"
        if not path.is_file():
            self.problem("mutations.py", "missing (MUTATIONS: one wrong solution per check)")
            return
        try:
            mutations = runpy.run_path(str(path))["MUTATIONS"]
        except Exception as exc:  # noqa: BLE001 - any failure to load is reported, not raised
            self.problem("mutations.py", f"cannot load MUTATIONS: {type(exc).__name__}: {exc}")
            return
        if not isinstance(mutations, dict):
            self.problem("mutations.py", "MUTATIONS must map check ids to lists of (old, new) edits")
            return
        try:
            reference = lab.solution_path.read_text(encoding="utf-8")
        except OSError:
            return  # reported by solution()
        declared = [c.id for c in lab.checks]
        for check_id in declared:
            if check_id not in mutations:
                self.problem("mutations.py", f"no wrong solution for check {check_id!r}")
        for check_id, edits in mutations.items():
            if check_id not in declared:
                self.problem("mutations.py", f"a wrong solution for {check_id!r}, which lab.yaml does not declare")
            else:
                self._edits(check_id, edits, reference)

    def _edits(self, check_id: str, edits: object, reference: str) -> None:
        if not isinstance(edits, list | tuple) or not edits or not all(
                isinstance(e, list | tuple) and len(e) == 2 and all(isinstance(s, str) for s in e) for e in edits):
            self.problem("mutations.py", f"{check_id!r}: a non-empty list of (old, new) text edits expected")
            return
        source = reference
        for old, new in edits:  # applied in order, as the contract test applies them
            if source.count(old) != 1:
                self.problem("mutations.py", f"{check_id!r}: the edit's old text occurs {source.count(old)} times in "
                             f"the reference (must be exactly once): {old[:60]!r}")
                return
            source = source.replace(old, new)
        if source == reference:
            self.problem("mutations.py", f"{check_id!r}: the edits leave the reference unchanged")

    def stray_files(self) -> None:
        allowed, pending = set(LAB_FILES), [name for name in LAB_FILES if name.endswith(".py")]
        while pending:  # a data module may load another one
            path = self.folder / pending.pop()
            if not path.is_file():
                continue
            try:
                found = _lab_modules(ast.parse(path.read_text(encoding="utf-8")))
            except SyntaxError:
                continue  # reported where the file is checked
            pending += sorted(found - allowed)
            allowed |= found
        for entry in sorted(self.folder.iterdir()):
            if entry.name in IGNORED:
                continue
            if entry.is_dir() or entry.name not in allowed:
                self.problem(entry.name, f"stray {'folder' if entry.is_dir() else 'file'}: a lab folder holds "
                             f"{', '.join(LAB_FILES)} and the .py modules its files load with lab_module(...)")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def run(root: Path) -> int:
    """Print the report; 0 when the catalogue is sound, 1 with the list of problems."""
    report = check_catalogue(root)
    if report.problems:
        print(f"mlalab dev check: {_count(len(report.problems), 'problem')}:")
        for problem in report.problems:
            print(f"  - {problem}")
        return 1
    checks = sum(len(lab.checks) for lab in report.labs)
    print(f"The catalogue is sound: {_count(len(report.labs), 'lab')}, {_count(checks, 'check')}, each with its test "
          "and a wrong solution.")
    if report.rows:
        untrained = [row for row in report.rows if row not in report.trained]
        print(f"Curriculum rows trained by a lab: {len(report.rows) - len(untrained)}/{len(report.rows)}"
              + (f"; not yet: {', '.join(untrained)}" if untrained else ""))
    return 0
