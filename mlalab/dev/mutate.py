"""Mutation testing of the simulator engines against their own conformance suites (``make mutate``).

An engine is only as trustworthy as the tests that pin its documented AWS rules. This tool changes
the engine's code one small fault at a time (a mutant) and runs the engine's conformance tests
against it: a mutant the tests do not notice ("survivor") is a rule of the engine that no test pins.

Engines are discovered, not listed: every package ``mlalab/engines/<name>/`` (any number of files)
is tested by ``tests/engines/test_<name>_*.py``. A package named with PEP 8's trailing underscore to
dodge a keyword (``lambda_``) is tested by the files of the service's plain name
(``test_lambda_*.py``), as a test file name needs no such escape.

Why not mutmut (installed)? mutmut 3 is configured once per project in ``[tool.mutmut]`` of
pyproject.toml: one set of source paths and one test selection for the whole run, so each engine
cannot be held to its own conformance files without editing the project's configuration per run.
It copies the project into ``mutants/``, mutates every line with no reproducible sampling (our
engines give thousands of mutants) and has no per-engine file of documented equivalent mutants.
The mutator here is small and fits the job: it enumerates mutants from the AST, edits only the
mutated tokens in the source text (formatting and line numbers stay, so survivors are reported
on the real line), samples a reproducible subset, and runs each mutant in a fork of a warm
interpreter (pytest and third-party modules already imported), which costs a fraction of a fresh
``python -m pytest`` per mutant.

How a mutant runs: a worker process (two by default) imports the third-party modules the clean
test run used; per mutant it forks, the child forgets every project module, installs an import hook
that serves the mutated source for the one mutated module, and runs
``pytest -x -q -p no:cacheprovider <the engine's test files>``. Exit 0 means the mutant survived;
a failure, an import error or a crash kills it; a child that runs past the timeout (10x the clean
run) is killed and counted as detected, since a hang is noticed too.

Equivalent mutants (changes no test can observe because behaviour does not change) are listed in
``tests/engines/MUTATION_SURVIVORS_<engine>.md``, one markdown list item each::

    - mlalab/engines/iam/evaluator.py:123 compare — why this mutant cannot change behaviour

(``path:line operator``, then a dash or colon, then the reason; the reason is required). A listed
survivor is reported as equivalent and left out of the score; an entry that matches no mutant of
the current code is reported as stale so that it is fixed when code moves.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.abc
import importlib.util
import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX = 250
DEFAULT_SEED = 20240611
DEFAULT_MIN_SCORE = 95.0
NO_MUTATE = "pragma: no mutate"

OPERATORS = ("compare", "boolop", "not", "number", "bool", "arith", "return", "delete", "raise")

# Each comparison is mutated to its nearest wrong neighbour: off-by-one boundaries and negations.
_COMPARE: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Lt: (r"<", "<="),
    ast.LtE: (r"<=", "<"),
    ast.Gt: (r">", ">="),
    ast.GtE: (r">=", ">"),
    ast.Eq: (r"==", "!="),
    ast.NotEq: (r"!=", "=="),
    ast.In: (r"\bin\b", "not in"),
    ast.NotIn: (r"\bnot\s+in\b", "in"),
    ast.Is: (r"\bis\b", "is not"),
    ast.IsNot: (r"\bis\s+not\b", "is"),
}
_ARITH: dict[type[ast.operator], tuple[str, str]] = {
    ast.Add: (r"\+", "-"),
    ast.Sub: (r"-", "+"),
    ast.Mult: (r"\*", "/"),
    ast.Div: (r"/", "*"),
}
_BOOLOP: dict[type[ast.boolop], tuple[str, str]] = {ast.And: (r"\band\b", "or"), ast.Or: (r"\bor\b", "and")}


# --------------------------------------------------------------------------------------------------
# Engines


@dataclass(frozen=True)
class Engine:
    name: str
    package: str  # dotted import name, e.g. mlalab.engines.iam
    directory: Path
    tests: tuple[Path, ...]

    @property
    def test_pattern(self) -> str:
        return tests_pattern(self.name)


def tests_pattern(name: str) -> str:
    """The glob of an engine's conformance files: ``test_<name>_*.py``, where a trailing underscore
    that only keeps the package name off a Python keyword (``lambda_``) is dropped: ``test_lambda_*.py``
    (which still matches ``test_lambda__x.py``)."""
    return f"test_{name.rstrip('_')}_*.py"


def discover_engines(root: Path, engines_dir: Path, tests_dir: Path) -> list[Engine]:
    """Every package under ``engines_dir`` with its conformance files (:func:`tests_pattern`)."""
    engines = []
    for directory in sorted(p for p in engines_dir.iterdir() if (p / "__init__.py").is_file()):
        package = ".".join(directory.relative_to(root).parts)
        tests = tuple(sorted(tests_dir.glob(tests_pattern(directory.name))))
        engines.append(Engine(directory.name, package, directory, tests))
    return engines


# --------------------------------------------------------------------------------------------------
# Mutants


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the project root, posix
    module: str
    line: int
    operator: str
    original: str  # the original source line, stripped
    mutated: str  # the same line after the mutation, stripped
    start: int  # byte offsets of the replaced text in the file
    end: int
    replacement: str

    @property
    def key(self) -> str:
        return f"{self.path}:{self.line} {self.operator}"

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.replacement.encode() + source[self.end :]


class _Source:
    """A file's bytes with (line, UTF-8 column) -> byte offset, as the AST counts columns."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.line_starts = [0]
        for index, byte in enumerate(data):
            if byte == 0x0A:
                self.line_starts.append(index + 1)

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def line_of(self, offset: int) -> int:
        low, high = 0, len(self.line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self.line_starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low + 1

    def line_text(self, data: bytes, line: int) -> str:
        start = self.line_starts[line - 1]
        stop = data.find(b"\n", start)
        return data[start : stop if stop >= 0 else len(data)].decode(errors="replace").strip()


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Nodes never mutated: annotations, decorators, docstrings and f-string internals (whose
    positions are unreliable). Mutating them tests nothing about behaviour."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            roots.extend(node.decorator_list)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
                roots.append(node.returns)
        if isinstance(node, ast.arg) and node.annotation:
            roots.append(node.annotation)
        if isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
        if isinstance(node, ast.JoinedStr):
            roots.append(node)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                roots.append(first)
    return {id(sub) for root in roots for sub in ast.walk(root)}


def _function_statements(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.stmt]:
    """The statements of a function's body, nested blocks included, nested definitions excluded."""
    pending: list[ast.stmt] = list(function.body)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield stmt
        for name in ("body", "orelse", "finalbody"):
            pending.extend(getattr(stmt, name, []))
        for handler in getattr(stmt, "handlers", []):
            pending.extend(handler.body)
        for case in getattr(stmt, "cases", []):
            pending.extend(case.body)


def _first_bindings(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, int]:
    """Line of each local name's first binding (arguments bind on the ``def`` line)."""
    first: dict[str, int] = {a.arg: function.lineno for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    for stmt in _function_statements(function):
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                first[node.id] = min(first.get(node.id, node.lineno), node.lineno)
    return first


def _deletable(stmt: ast.stmt, first: dict[str, int]) -> bool:
    """Statements whose removal is a behaviour change rather than a certain NameError: not the first
    binding of a local, not definitions, imports, ``pass``, docstrings, returns or raises (those have
    their own operators)."""
    if isinstance(
        stmt,
        ast.FunctionDef
        | ast.AsyncFunctionDef
        | ast.ClassDef
        | ast.Import
        | ast.ImportFrom
        | ast.Pass
        | ast.Global
        | ast.Nonlocal
        | ast.Return
        | ast.Raise,
    ):
        return False
    if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
        return False
    if isinstance(stmt, ast.Assign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        return all(first.get(name, stmt.lineno) < stmt.lineno for name in names)
    return True


def _token(source: _Source, start: int, end: int, pattern: str) -> tuple[int, int] | None:
    """Byte span of the operator ``pattern`` between two operands (the gap holds only the operator,
    parentheses, whitespace and maybe a line continuation)."""
    match = re.search(pattern.encode(), source.data[start:end])
    return (start + match.start(), start + match.end()) if match else None


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr | ast.List | ast.Tuple) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)
    )


def _edits(tree: ast.Module, source: _Source) -> Iterator[tuple[str, int, int, str]]:
    """(operator, start, end, replacement) for every mutation of one file."""
    skipped = _skipped_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Compare):
            lefts = [node.left, *node.comparators[:-1]]
            for op, left, right in zip(node.ops, lefts, node.comparators, strict=True):
                pattern, replacement = _COMPARE[type(op)]
                span = _token(source, source.end(left), source.start(right), pattern)
                if span:
                    yield "compare", *span, replacement
        elif isinstance(node, ast.BoolOp):
            # Every operator of the chain flips at once: `a and b and c` -> `a or b or c`.
            pattern, replacement = _BOOLOP[type(node.op)]
            spans = [
                _token(source, source.end(a), source.start(b), pattern)
                for a, b in zip(node.values, node.values[1:], strict=False)
            ]
            if all(spans):
                # One edit spanning the chain; only the operator tokens change, not the operands.
                first, last = spans[0][0], spans[-1][1]  # type: ignore[index]
                text, position = b"", first
                for start, end in spans:  # type: ignore[misc]
                    text += source.data[position:start] + replacement.encode()
                    position = end
                yield "boolop", first, last, (text + source.data[position:last]).decode()
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            start = source.start(node)
            gap = re.match(rb"not\s*", source.data[start : source.start(node.operand)])
            if gap:
                yield "not", start, start + gap.end(), ""
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            if not (_is_text(node.left) or _is_text(node.right)):
                pattern, replacement = _ARITH[type(node.op)]
                span = _token(source, source.end(node.left), source.start(node.right), pattern)
                if span:
                    yield "arith", *span, replacement
        elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITH and not _is_text(node.value):
            pattern, replacement = _ARITH[type(node.op)]
            span = _token(source, source.end(node.target), source.start(node.value), pattern + "=")
            if span:
                yield "arith", *span, replacement + "="
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield "bool", source.start(node), source.end(node), repr(not node.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            yield "number", source.start(node), source.end(node), repr(node.value + 1)
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                yield "return", source.start(node.value), source.end(node.value), "None"
        elif isinstance(node, ast.Raise):
            yield "raise", source.start(node), source.end(node), "pass"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = _first_bindings(node)
            for stmt in _function_statements(node):
                starts_line = not source.data[source.offset(stmt.lineno, 0) : source.start(stmt)].strip()
                if starts_line and id(stmt) not in skipped and _deletable(stmt, first):
                    yield "delete", source.start(stmt), source.end(stmt), "pass"


def file_mutants(path: Path, root: Path, module: str) -> list[Mutant]:
    """All mutants of one file, in source order."""
    source = _Source(path.read_bytes())
    tree = ast.parse(source.data, filename=str(path))
    relative = path.relative_to(root).as_posix()
    mutants = []
    for operator, start, end, replacement in _edits(tree, source):
        line = source.line_of(start)
        original = source.line_text(source.data, line)
        if NO_MUTATE in original:
            continue
        mutated_data = source.data[:start] + replacement.encode() + source.data[end:]
        mutated = source.line_text(mutated_data, line)
        mutants.append(Mutant(relative, module, line, operator, original, mutated, start, end, replacement))
    return sorted(mutants, key=lambda m: (m.start, m.end, m.operator))


def engine_mutants(engine: Engine, root: Path) -> list[Mutant]:
    """All mutants of an engine package, file by file (sorted paths, so the order is stable)."""
    mutants = []
    for path in sorted(engine.directory.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mutants.extend(file_mutants(path, root, module))
    return mutants


def sample(mutants: Sequence[Mutant], limit: int | None, seed: int) -> list[Mutant]:
    """``limit`` mutants spread evenly over the engine: one random pick (fixed seed) in each of
    ``limit`` equal slices of the source-ordered list, so every file and region is represented and
    the same code gives the same sample."""
    if limit is None or len(mutants) <= limit:
        return list(mutants)
    rng = random.Random(seed)
    picks = []
    for index in range(limit):
        low, high = index * len(mutants) // limit, (index + 1) * len(mutants) // limit
        picks.append(mutants[rng.randrange(low, high)])
    return picks


# --------------------------------------------------------------------------------------------------
# Documented equivalent mutants

_ENTRY = re.compile(
    r"^\s*[-*]\s+`?(?P<path>[^\s:`]+\.py):(?P<line>\d+)\s+(?P<op>[a-z_]+)`?\s*(?:—|–|--|-|:)\s*(?P<reason>\S.*)$"
)


@dataclass(frozen=True)
class Equivalent:
    key: str
    reason: str


def read_survivors_file(path: Path) -> tuple[dict[str, Equivalent], list[str]]:
    """Entries of a MUTATION_SURVIVORS file keyed by ``path:line operator``, and malformed lines."""
    entries: dict[str, Equivalent] = {}
    malformed: list[str] = []
    if not path.is_file():
        return entries, malformed
    for line in path.read_text().splitlines():
        if not re.match(r"^\s*[-*]\s", line):
            continue
        match = _ENTRY.match(line)
        if not match or match["op"] not in OPERATORS:
            malformed.append(line.strip())
            continue
        key = f"{match['path']}:{match['line']} {match['op']}"
        entries[key] = Equivalent(key, match["reason"].strip())
    return entries, malformed


# --------------------------------------------------------------------------------------------------
# Running mutants: a warm worker process forks one child per mutant


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the compiled mutant for one module name; every other module imports from disk."""

    def __init__(self, module: str, path: str, code: Any) -> None:
        self.module, self.path, self.code = module, path, code

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.module:
            return None
        package = [os.path.dirname(self.path)] if self.path.endswith("__init__.py") else None
        return importlib.util.spec_from_file_location(
            fullname, self.path, loader=self, submodule_search_locations=package
        )

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        exec(self.code, module.__dict__)  # noqa: S102 - the point of the tool


def _project_file(path: str | None, root: str) -> bool:
    """A file of the project itself, not of the interpreter or of a virtualenv kept inside it."""
    if not path:
        return False
    real = os.path.realpath(path)
    installed = real.startswith(os.path.realpath(sys.prefix) + os.sep) or "site-packages" in real.split(os.sep)
    return real.startswith(root + os.sep) and not installed


def _child(job: dict[str, Any], code: Any, modules_out: str | None) -> None:
    """Runs in the forked child: fresh project modules, the mutant installed, the engine's tests."""
    os.setpgid(0, 0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    status = 3
    try:
        root = os.path.realpath(job["root"])
        for name, module in list(sys.modules.items()):
            if _project_file(getattr(module, "__file__", None), root):
                del sys.modules[name]
        sys.dont_write_bytecode = True  # never leave a mutant's bytecode in __pycache__
        sys.path.insert(0, root)
        os.chdir(root)
        if code is not None:
            sys.meta_path.insert(0, _MutantFinder(job["module"], job["file"], code))
        import pytest

        status = int(pytest.main([*job["tests"], "-x", "-q", "-p", "no:cacheprovider"]))
        if modules_out:
            files = {name: getattr(m, "__file__", None) for name, m in list(sys.modules.items())}
            Path(modules_out).write_text(json.dumps(files))
    finally:
        os._exit(status)


_ORIGINAL_DUMPS: dict[str, str] = {}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Compile the mutant (rejecting one that is not valid Python or changes nothing), then run the
    engine's tests on it in a forked child with a timeout. ``job["source"]`` None is a clean run."""
    code = None
    if job.get("source") is not None:
        try:
            tree = ast.parse(job["source"], filename=job["file"])
        except SyntaxError as error:
            return {"status": "invalid", "detail": f"syntax error: {error}", "seconds": 0.0}
        if job["file"] not in _ORIGINAL_DUMPS:
            _ORIGINAL_DUMPS[job["file"]] = ast.dump(ast.parse(Path(job["file"]).read_bytes()))
        if ast.dump(tree) == _ORIGINAL_DUMPS[job["file"]]:
            return {"status": "invalid", "detail": "the mutation changes nothing", "seconds": 0.0}
        code = compile(tree, job["file"], "exec", dont_inherit=True)
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(job, code, job.get("modules_out"))
    deadline = started + job["timeout"]
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return {"status": "timeout", "seconds": round(time.perf_counter() - started, 3)}
        time.sleep(0.005)
    seconds = round(time.perf_counter() - started, 3)
    exit_code = os.waitstatus_to_exitcode(wait_status)
    return {"status": "survived" if exit_code == 0 else "killed", "exit_code": exit_code, "seconds": seconds}


def _worker_main() -> None:
    """A warm worker: imports the modules it is told to, then runs one JSON job per stdin line and
    answers one JSON result per line on the original stdout (fd 1 goes to stderr, so nothing a
    module prints can break the protocol)."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        message = json.loads(line)
        if "warm" in message:
            for name in message["warm"]:
                try:
                    importlib.import_module(name)
                except Exception:  # noqa: BLE001 - a module that cannot be preloaded just is not warm
                    pass
            answers.write("{}\n")
        else:
            answers.write(json.dumps(run_job(message)) + "\n")
        answers.flush()


class Worker:
    """One warm worker process (the parent only talks JSON lines to it and never forks)."""

    def __init__(self, root: Path, warm: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from mlalab.dev.mutate import _worker_main; _worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
            text=True,
        )
        self.request({"warm": list(warm)})

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("mutation worker died")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def _warm_modules(files: dict[str, str | None], root: Path) -> list[str]:
    """Modules of the clean run worth preloading: everything outside the project (stdlib, pytest,
    third-party), which never imports project code and so can never hold an unmutated engine."""
    real_root = os.path.realpath(root)
    return sorted(n for n, f in files.items() if not n.startswith("__") and not _project_file(f, real_root))


# --------------------------------------------------------------------------------------------------
# One engine


@dataclass
class EngineReport:
    engine: str
    package: str
    tests: list[str]
    seed: int
    max: int | None
    total_mutants: int  # before sampling
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    timeouts: int = 0
    equivalent: int = 0
    invalid: int = 0
    score: float = 100.0
    min_score: float = DEFAULT_MIN_SCORE
    passed: bool = True
    clean_run_seconds: float = 0.0
    timeout_seconds: float = 0.0
    duration_seconds: float = 0.0
    error: str | None = None
    survivors: list[dict[str, Any]] = field(default_factory=list)
    equivalents: list[dict[str, Any]] = field(default_factory=list)
    stale_entries: list[str] = field(default_factory=list)
    malformed_entries: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


def _describe(mutant: Mutant) -> dict[str, Any]:
    return {
        "path": mutant.path,
        "line": mutant.line,
        "operator": mutant.operator,
        "original": mutant.original,
        "mutated": mutant.mutated,
    }


def run_engine(
    engine: Engine,
    root: Path,
    *,
    limit: int | None = DEFAULT_MAX,
    seed: int = DEFAULT_SEED,
    jobs: int = 2,
    timeout_factor: float = 10.0,
    min_score: float = DEFAULT_MIN_SCORE,
    survivors_file: Path | None = None,
) -> EngineReport:
    """Mutate one engine and run its conformance tests against each mutant."""
    started = time.perf_counter()
    everything = engine_mutants(engine, root)
    report = EngineReport(
        engine.name,
        engine.package,
        [t.relative_to(root).as_posix() for t in engine.tests],
        seed,
        limit,
        len(everything),
        min_score=min_score,
    )
    entries, report.malformed_entries = read_survivors_file(survivors_file) if survivors_file else ({}, [])
    existing = {m.key for m in everything}
    report.stale_entries = sorted(key for key in entries if key not in existing)
    if not engine.tests:
        report.error = f"no conformance tests: expected {engine.name}'s tests as tests/engines/{engine.test_pattern}"
        report.passed, report.score = False, 0.0
        return report

    base = {"root": str(root), "tests": [str(t) for t in engine.tests]}
    # A cold clean run tells which modules the tests use (to preload them) and that the tests pass.
    with tempfile.TemporaryDirectory() as scratch:
        modules_out = Path(scratch) / "modules.json"
        cold = Worker(root, [])
        try:
            clean = cold.request({**base, "timeout": 600, "modules_out": str(modules_out)})
        finally:
            cold.close()
        if clean["status"] != "survived" or not modules_out.is_file():
            report.error = "the conformance tests fail on the unmutated engine; fix them first"
            report.passed, report.score = False, 0.0
            return report
        warm = _warm_modules(json.loads(modules_out.read_text()), root)

    chosen = sample(everything, limit, seed)
    sources = {path: (root / path).read_bytes() for path in {m.path for m in chosen}}
    workers: queue.Queue[Worker] = queue.Queue()
    started_workers = [Worker(root, warm) for _ in range(max(1, jobs))]
    for worker in started_workers:
        workers.put(worker)
    try:
        # The warm clean run sets the timeout: mutants run in the same warm conditions.
        warm_clean = started_workers[0].request({**base, "timeout": 600})
        if warm_clean["status"] != "survived":
            report.error = f"the clean run fails in a warm worker (a fault of this tool): {warm_clean}"
            report.passed, report.score = False, 0.0
            return report
        report.clean_run_seconds = warm_clean["seconds"]
        report.timeout_seconds = round(max(timeout_factor * report.clean_run_seconds, 2.0), 2)

        def run(mutant: Mutant) -> dict[str, Any]:
            job = {
                **base,
                "timeout": report.timeout_seconds,
                "module": mutant.module,
                "file": str(root / mutant.path),
                "source": mutant.apply(sources[mutant.path]).decode(),
            }
            worker = workers.get()
            try:
                return worker.request(job)
            finally:
                workers.put(worker)

        with ThreadPoolExecutor(max_workers=len(started_workers)) as pool:
            outcomes = list(pool.map(run, chosen))
    finally:
        for worker in started_workers:
            worker.close()

    for mutant, outcome in zip(chosen, outcomes, strict=True):
        entry = {**_describe(mutant), **outcome}
        report.results.append(entry)
        status = outcome["status"]
        if status == "invalid":
            report.invalid += 1
            continue
        report.mutants += 1
        if status == "killed":
            report.killed += 1
        elif status == "timeout":
            report.timeouts += 1
        elif mutant.key in entries:
            report.equivalent += 1
            report.equivalents.append({**_describe(mutant), "reason": entries[mutant.key].reason})
        else:
            report.survived += 1
            report.survivors.append(_describe(mutant))
    scored = report.mutants - report.equivalent
    report.score = round(100.0 * (report.killed + report.timeouts) / scored, 1) if scored else 100.0
    report.passed = report.score >= min_score
    report.duration_seconds = round(time.perf_counter() - started, 1)
    return report


def format_report(report: EngineReport) -> str:
    """The human summary of one engine: counts, score and every survivor."""
    if report.error:
        return f"engine {report.engine}: ERROR {report.error}"
    sampled = f"{report.mutants} mutants" + (
        f" (sampled from {report.total_mutants})" if report.total_mutants > report.mutants + report.invalid else ""
    )
    lines = [
        f"engine {report.engine}: {sampled} in {report.duration_seconds} s "
        f"(clean run {report.clean_run_seconds} s, timeout {report.timeout_seconds} s)",
        f"  killed {report.killed}, timeouts {report.timeouts}, survived {report.survived}, "
        f"equivalent {report.equivalent}" + (f", invalid {report.invalid}" if report.invalid else ""),
        f"  score {report.score} % (minimum {report.min_score} %): {'PASS' if report.passed else 'FAIL'}",
    ]
    if report.survivors:
        lines.append("  survivors (no conformance test notices these changes):")
        for s in report.survivors:
            lines.append(f"    {s['path']}:{s['line']} {s['operator']}: {s['original']}  →  {s['mutated']}")
    if report.equivalents:
        lines.append(f"  documented equivalent: {len(report.equivalents)}")
    for key in report.stale_entries:
        lines.append(f"  stale survivors-file entry (no such mutant in the current code): {key}")
    for line in report.malformed_entries:
        lines.append(f"  malformed survivors-file entry (want `- path.py:LINE operator — reason`): {line}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlalab.dev.mutate",
        description="Mutation testing of each simulator engine (mlalab/engines/<name>/) against its "
        "conformance tests (tests/engines/test_<name>_*.py).",
    )
    parser.add_argument("--engine", action="append", help="only this engine (repeatable); default: all")
    parser.add_argument("--max", type=int, default=DEFAULT_MAX, help="mutants per engine, evenly sampled (%(default)s)")
    parser.add_argument("--all", action="store_true", help="every mutant, no sampling")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="sampling seed (%(default)s)")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE, help="%% required (%(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (%(default)s)")
    parser.add_argument("--timeout-factor", type=float, default=10.0, help="x the clean run (%(default)s)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root (current directory)")
    parser.add_argument("--engines-dir", type=Path, help="relative to ROOT (mlalab/engines)")
    parser.add_argument("--tests-dir", type=Path, help="relative to ROOT (tests/engines)")
    parser.add_argument("--out-dir", type=Path, help="JSON reports, relative to ROOT (bench/out)")
    parser.add_argument("--list", action="store_true", help="print the sampled mutants, run nothing")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    engines_dir = (root / (args.engines_dir or "mlalab/engines")).resolve()
    tests_dir = (root / (args.tests_dir or "tests/engines")).resolve()
    out_dir = (root / (args.out_dir or "bench/out")).resolve()
    engines = discover_engines(root, engines_dir, tests_dir)
    if args.engine:
        unknown = sorted(set(args.engine) - {e.name for e in engines})
        if unknown:
            parser.error(f"unknown engine(s) {', '.join(unknown)}; engines: {', '.join(e.name for e in engines)}")
        engines = [e for e in engines if e.name in args.engine]
    limit = None if args.all else args.max

    if args.list:
        for engine in engines:
            for mutant in sample(engine_mutants(engine, root), limit, args.seed):
                print(f"{mutant.key}: {mutant.original}  →  {mutant.mutated}")
        return 0

    failed = False
    out_dir.mkdir(parents=True, exist_ok=True)
    for engine in engines:
        report = run_engine(
            engine,
            root,
            limit=limit,
            seed=args.seed,
            jobs=args.jobs,
            timeout_factor=args.timeout_factor,
            min_score=args.min_score,
            survivors_file=tests_dir / f"MUTATION_SURVIVORS_{engine.name}.md",
        )
        print(format_report(report), flush=True)
        out = out_dir / f"mutation-{engine.name}.json"
        out.write_text(json.dumps(asdict(report), indent=2) + "\n")
        print(f"  report: {out}", flush=True)
        failed = failed or not report.passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
