"""The pytest plugin that turns a lab's test module into a grader.

A lab's ``test_lab.py`` is an ordinary pytest module: fixtures build the scenario on the lab's moto
server, the ``learner`` fixture runs the learner's functions in the sandbox, and each test marked
``@pytest.mark.check("id")`` is one graded check from ``lab.yaml``. This plugin supplies those
fixtures and records each check's outcome for the report. It can be used directly:

    pytest labs/01_endpoint_alarms/test_lab.py -p mlalab.plugin --mlalab-submission workspace
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import boto3
import pytest
from botocore.config import Config

from mlalab.catalog import Lab, lab_for_test_module, load_labs
from mlalab.checking import CheckFailed
from mlalab.sandbox import REGION, Call, LearnerProcess, LearnerRun
from mlalab.server import LabServer
from mlalab.transport import InProcess


@dataclass
class CheckOutcome:
    check_id: str
    status: str  # pass | fail | error
    message: str
    duration: float


@dataclass
class LabOutcome:
    lab: Lab
    seed: int
    run: LearnerRun | None = None
    checks: dict[str, CheckOutcome] = field(default_factory=dict)


class Recorder:
    """Collects outcomes per (submission index, lab id); the grading engine reads it after the session."""

    def __init__(self) -> None:
        self.labs: dict[tuple[int, int], LabOutcome] = {}


@dataclass(frozen=True)
class GradingOptions:
    """What one grading session grades and under which limits (the grader's side of the CLI options)."""

    # The folders of labNN.py files graded in this session, in turn, each against a fresh AWS; None
    # grades the reference solutions. Several in one session share one server and one pytest start-up.
    submissions: tuple[Path | None, ...]
    seed: int
    timeout: float = 60.0  # seconds per lab for the learner's code
    memory_mb: int = 1024  # MiB of address space for the learner's code

    @classmethod
    def from_config(cls, config: pytest.Config) -> GradingOptions:
        """Built from the command-line options when the plugin is used directly with pytest."""
        seed = config.getoption("--mlalab-seed")
        reference = config.getoption("--mlalab-reference")
        return cls(
            submissions=(None if reference else Path(config.getoption("--mlalab-submission")),),
            seed=seed if seed is not None else random.SystemRandom().randrange(1, 10**6),
            timeout=config.getoption("--mlalab-timeout"), memory_mb=config.getoption("--mlalab-memory"))


class WarmResources(Protocol):
    """What a warm grader (``mlalab.warm.WarmGrader``) lends a grading session: its running server,
    its grader clients and a learner process started ahead of need. None of it holds a submission's
    state: the server is reset before every lab, and each learner process grades one submission."""

    server: LabServer
    clients: Aws

    def learner(self, module_file: Path, module_name: str, *, memory_mb: int,
                blocked_paths: list[str]) -> LearnerProcess: ...


OPTIONS = pytest.StashKey[GradingOptions]()
RECORDER = pytest.StashKey[Recorder]()
WARM = pytest.StashKey["WarmResources | None"]()


class GradingSession:
    """The plugin object the grading engine registers: it hands one session its options and the
    recorder the engine reads afterwards (pytest's way: ``config.stash``, set before anything runs)."""

    def __init__(self, options: GradingOptions, recorder: Recorder, warm: WarmResources | None = None) -> None:
        self.options = options
        self.recorder = recorder
        self.warm = warm

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[OPTIONS] = self.options
        config.stash[RECORDER] = self.recorder
        config.stash[WARM] = self.warm
        if self.warm is not None:
            # A failing check's report needs only its exception (the recorder reads the Verdict); pytest's
            # default "long" traceback parses each frame's source with ast (~8% of a warm grading).
            config.option.tbstyle = "native"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlalab", "mla-labs grading")
    group.addoption("--mlalab-submission", default="workspace",
                    help="folder holding the learner's labNN.py files")
    group.addoption("--mlalab-reference", action="store_true",
                    help="grade the reference solutions instead of a submission")
    group.addoption("--mlalab-seed", type=int, default=None, help="seed for randomised resource names")
    group.addoption("--mlalab-timeout", type=float, default=60.0, help="seconds per lab for learner code")
    group.addoption("--mlalab-memory", type=int, default=1024, help="MiB of address space for learner code")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(id): the lab.yaml check this test grades")
    if OPTIONS not in config.stash:  # used directly with pytest, not through the grading engine
        config.stash[OPTIONS] = GradingOptions.from_config(config)
        config.stash[RECORDER] = Recorder()


@pytest.fixture(scope="session")
def options(pytestconfig: pytest.Config) -> GradingOptions:
    """This session's grading options (the seed, the submission, the limits)."""
    return pytestconfig.stash[OPTIONS]


@pytest.fixture(scope="session")
def lab_server(pytestconfig: pytest.Config):
    warm = pytestconfig.stash.get(WARM, None)
    if warm is not None:  # a warm grader's server: it outlives this session (reset before every lab)
        yield warm.server
        return
    with LabServer() as server:
        yield server


class Aws:
    """boto3 clients for the grader (trusted side) on the lab's moto server. Given the server's WSGI
    ``app``, they reach it in-process (``mlalab.transport``: the same requests, no socket), unless
    ``MLALAB_GRADER_TRANSPORT=http``."""

    def __init__(self, endpoint_url: str, app: object | None = None) -> None:
        self.app = app if os.environ.get("MLALAB_GRADER_TRANSPORT", "in-process") != "http" else None
        self.session = boto3.session.Session(aws_access_key_id="grader", aws_secret_access_key="grader",
                                             region_name=REGION)
        self.endpoint_url = endpoint_url
        self.region = REGION
        self.account = "123456789012"  # moto's default account
        self._clients: dict[str, object] = {}

    def client(self, service: str):
        if service not in self._clients:
            client = self.session.client(service, endpoint_url=self.endpoint_url,
                                         config=Config(retries={"max_attempts": 1}))
            if self.app is not None:
                client.meta.events.register("before-send", InProcess(self.app))
            self._clients[service] = client
        return self._clients[service]


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> Lab:
    return lab_for_test_module(Path(request.module.__file__))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With several submissions, every test of a lab module runs once per submission: the
    module-scoped ``submission`` parameter makes pytest build the scenario, run the learner and
    grade every check for one submission before it moves to the next."""
    count = len(metafunc.config.stash[OPTIONS].submissions)
    if count > 1 and "submission" in metafunc.fixturenames:
        metafunc.parametrize("submission", range(count), indirect=True, scope="module",
                             ids=[f"submission{i}" for i in range(count)])


@pytest.fixture(scope="module")
def submission(request: pytest.FixtureRequest) -> int:
    """The index, in ``GradingOptions.submissions``, of the submission this module is grading."""
    return getattr(request, "param", 0)


@pytest.fixture(scope="module")
def lab_outcome(request: pytest.FixtureRequest, lab: Lab, submission: int) -> LabOutcome:
    return _recorded(request.config, submission, lab)


def _recorded(config: pytest.Config, submission: int, lab: Lab) -> LabOutcome:
    """The entry of one submission's lab in this session's recorder (created on first use)."""
    return config.stash[RECORDER].labs.setdefault((submission, lab.id), LabOutcome(lab, config.stash[OPTIONS].seed))


def _submission_of(item: pytest.Item) -> int:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("submission", 0) if callspec else 0


@pytest.fixture(scope="session")
def _grader_clients(pytestconfig: pytest.Config, lab_server: LabServer) -> Aws:
    """One set of grader clients per session (per warm grader when there is one): creating a boto3
    client loads its service model, which costs more than most checks, and the clients hold no AWS
    state of their own."""
    warm = pytestconfig.stash.get(WARM, None)
    return warm.clients if warm is not None else Aws(lab_server.endpoint_url, lab_server.app)


@pytest.fixture(scope="module")
def aws(_grader_clients: Aws, lab_server: LabServer, lab: Lab, submission: int) -> Aws:
    """A clean AWS for each lab (and each submission): moto's state and the extensions' are reset first."""
    lab_server.reset()
    return _grader_clients


@pytest.fixture(scope="module")
def rng(options: GradingOptions, lab: Lab) -> random.Random:
    """Seeded per lab, so names differ on every run but ``--mlalab-seed`` reproduces them."""
    return random.Random(f"{options.seed}:{lab.id}")


@pytest.fixture(scope="module")
def learner(options: GradingOptions, lab: Lab, lab_server: LabServer, lab_outcome: LabOutcome, submission: int,
            pytestconfig: pytest.Config):
    """``learner(calls)`` runs the learner's functions, in order, with keyword arguments.

    ``calls`` maps each function name from lab.yaml to its keyword arguments (what the scenario
    created). Call it once per lab, after the scenario is built. The sandboxed process starts as
    soon as this fixture is set up, so its start-up overlaps with building the scenario.
    """
    folder = options.submissions[submission]
    if folder is None:
        module_file = lab.solution_path
        blocked: list[str] = []
    else:
        module_file = folder / lab.workspace_file
        blocked = sorted({str(p.solution_path) for p in load_labs()} | {str(lab.solution_path)})
    warm = pytestconfig.stash.get(WARM, None)
    if warm is not None:  # a fresh process all the same, only started before this submission was known
        process = warm.learner(module_file, lab.module_name, memory_mb=options.memory_mb, blocked_paths=blocked)
    else:
        process = LearnerProcess(module_file, lab.module_name, lab_server.port,
                                 memory_mb=options.memory_mb, blocked_paths=blocked)

    def run(calls: dict[str, dict]) -> LearnerRun:
        for name, kwargs in calls.items():
            expected = lab.function(name).params
            if tuple(kwargs) != expected:
                raise RuntimeError(f"lab {lab.number}: test passes {tuple(kwargs)} to {name}, lab.yaml says "
                                   f"{expected}")
        lab_outcome.run = process.run([Call(name, kwargs) for name, kwargs in calls.items()],
                                      timeout=options.timeout)
        return lab_outcome.run

    yield run
    process.close()  # when the scenario failed before calling run()


def _check_id(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("check")
    return str(marker.args[0]) if marker and marker.args else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in a lab module must grade exactly one check named in lab.yaml, and every check
    must have its test: a check nobody runs, or a test worth no points, is a harness defect.

    The learner edition (``edition: learner`` in lab.yaml) leaves hidden checks out of lab.yaml: the
    tests that grade them are deselected there; every check it declares still needs its test."""
    by_module: dict[tuple[Path, int], list[tuple[str, pytest.Item]]] = {}
    for item in items:
        if item.path.name != "test_lab.py":
            continue
        check_id = _check_id(item)
        if check_id is None:
            raise pytest.UsageError(f"{item.nodeid}: a lab test must be marked @pytest.mark.check('<id>')")
        by_module.setdefault((item.path, _submission_of(item)), []).append((check_id, item))
    deselected: list[pytest.Item] = []
    for (path, submission), graded in by_module.items():
        lab = lab_for_test_module(path)
        declared = [c.id for c in lab.checks]
        if lab.edition == "learner":
            deselected += [item for check_id, item in graded if check_id not in declared]
            graded = [(check_id, item) for check_id, item in graded if check_id in declared]
        ids = [check_id for check_id, _ in graded]
        if sorted(ids) != sorted(declared):
            raise pytest.UsageError(f"lab {lab.number}: tests grade {sorted(ids)} but lab.yaml declares "
                                    f"{sorted(declared)}")
        deselected += _not_submitted(config, lab, submission, graded)
    if deselected:
        dropped = {id(item) for item in deselected}
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if id(item) not in dropped]


def _not_submitted(config: pytest.Config, lab: Lab, submission: int,
                   graded: list[tuple[str, pytest.Item]]) -> list[pytest.Item]:
    """The tests (``graded``: check id and test) of ``lab`` for ``submission`` when the submission does not
    have the lab's file, each recorded as failed; else none.

    With no file there is no learner code to run, so building the lab's scenario (a third of a second
    to two seconds of AWS calls and simulated traffic) could only show that nothing was done. In a
    class batch most labs of most submissions are like that. The lab's problems say which file is
    missing (``feedback.problems``); every check fails, saying it was not graded."""
    folder = config.stash[OPTIONS].submissions[submission]
    if folder is None or (folder / lab.workspace_file).exists():
        return []
    outcome = _recorded(config, submission, lab)
    outcome.run = LearnerRun(module_missing=True)
    for check_id, _ in graded:
        outcome.checks[check_id] = CheckOutcome(check_id, "fail", f"not graded: the submission has no "
                                                f"{lab.workspace_file}", 0.0)
    return [item for _, item in graded]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    check_id = _check_id(item)
    if check_id is None or item.path.name != "test_lab.py":
        return report
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = _recorded(item.config, _submission_of(item), lab_for_test_module(item.path))
        outcome.checks[check_id] = _outcome(check_id, report, call)
    return report


def _outcome(check_id: str, report: pytest.TestReport, call: pytest.CallInfo) -> CheckOutcome:
    duration = getattr(report, "duration", 0.0)
    if report.passed:
        return CheckOutcome(check_id, "pass", "", duration)
    exc = call.excinfo.value if call.excinfo else None
    if isinstance(exc, CheckFailed):  # also from a fixture: e.g. alarms the evaluator cannot replay
        return CheckOutcome(check_id, "fail", str(exc), duration)
    if report.when == "call" and isinstance(exc, AssertionError):
        return CheckOutcome(check_id, "fail", str(exc) or "an assertion failed", duration)
    # Anything else is the grader's own failure: say so plainly, never blame the learner.
    where = "setting up the lab" if report.when == "setup" else "running this check"
    detail = f"{type(exc).__name__}: {exc}" if exc else report.longreprtext.splitlines()[-1:]
    return CheckOutcome(check_id, "error", f"the grader failed while {where} ({detail}); this is a bug in "
                        "mla-labs, not in your code: please report it", duration)

