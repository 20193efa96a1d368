"""``mlalab serve``: the lab's AWS in the foreground, for learners to explore and debug with the AWS
CLI, boto3, a notebook or the SageMaker SDK before they write a lab's functions, and for instructors
to demo.

It is the grader's own :class:`~mlalab.server.LabServer` (moto, the extensions and their event
plumbing, the same request validation), so what works here works when grading; only the port is the
learner's choice and ``/moto-api/`` may be opened (``--allow-reset``).

``--lab N`` builds lab N's scenario without running any learner code and without grading: the lab's
``test_lab.py`` runs under pytest with the grading plugin plus :class:`ScenarioOnly`, registered after
it. A fixture registered later at the same level overrides an earlier one (pytest's
``FixtureManager.getfixturedefs``), so ScenarioOnly's ``lab_server`` (this server) and ``learner``
(records the keyword arguments of each function, runs nothing, returns ``None``) replace the
plugin's; and it swaps the collected checks for one item that requests only ``scenario``. The lab's
own scenario code builds the resources, so the names are exactly those of ``mlalab check N --seed S``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

import pytest

from mlalab.catalog import PROJECT_ROOT, Lab

DEFAULT_PORT = 5050  # not moto's 5000: macOS's AirPlay Receiver listens there (also the CLI's default)
# What the learner's code is given when graded, so calls here are signed, attributed (CloudTrail's
# userIdentity) and answered as they will be; the token also masks a real one left in the shell.
GRADED_VARIABLES = ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class ServeError(Exception):
    """A learner-facing problem (a port that cannot be had): one line, exit code 2."""


class ScenarioError(Exception):
    """The lab's scenario could not be built: a bug in mla-labs, not the learner's."""


def run(lab: Lab | None, *, port: int = DEFAULT_PORT, seed: int | None = None, allow_reset: bool = False,
        out: TextIO | None = None) -> int:
    """Serve until SIGINT or SIGTERM; 0 when stopped by one of them."""
    out = out or sys.stdout
    if not 0 <= port <= 65535:
        raise ServeError(f"--port {port} is not a TCP port (0-65535; 0 picks a free one)")
    seed = seed if seed is not None else secrets.randbelow(10**6 - 1) + 1
    with _StopSignals() as stop:
        from mlalab.server import LabServer  # ~1 s of imports, under the handlers: Ctrl-C now stops cleanly too

        try:
            server = LabServer(port=port, allow_reset=allow_reset)
        except OSError as exc:
            raise ServeError(_bind_problem(port, exc)) from exc
        with server:
            if lab is not None:
                _say(out, f"Building lab {lab.number}'s scenario (seed {seed})…")
                calls = build_scenario(server, lab, seed)
                _say(out, *scenario_lines(lab, seed, calls))
            _say(out, *banner_lines(server.endpoint_url, allow_reset))
            stop.wait()
        _say(out, "mlalab serve: stopped.")
    return 0


def _bind_problem(port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on 127.0.0.1 is already in use (another mlalab serve?); choose another with --port"
    if exc.errno == errno.EACCES:
        return f"port {port} needs privileges this user does not have; choose one above 1023 with --port"
    return f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}"


def _say(out: TextIO, *lines: str) -> None:
    """Printed and flushed at once: a script or test reading the pipe waits for these lines."""
    out.write("".join(f"{line}\n" for line in lines))
    out.flush()


def banner_lines(endpoint_url: str, allow_reset: bool) -> list[str]:
    """Where the server is and how to point every client at it. AWS_ENDPOINT_URL is read by the AWS
    CLI (v1.29+/v2.13+) and the SDKs, boto3 and so the SageMaker SDK included (Using endpoints in
    the AWS CLI: https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-endpoints.html)."""
    env = client_environment(endpoint_url)
    python = ", ".join(f'{name}="{value}"' for name, value in env.items())
    control = ("/moto-api/ is open (--allow-reset): POST /moto-api/reset forgets everything"
               if allow_reset else "/moto-api/ is refused, as when grading")
    return [
        f"mla-labs lab server (moto with the mla-labs extensions) on {endpoint_url}, region "
        f"{env['AWS_DEFAULT_REGION']}; {control}.",
        "Point the AWS CLI, boto3, a notebook or the SageMaker SDK at it (in the shell that runs them):",
        *(f"  export {name}={value}" for name, value in env.items()),
        "or, in Python before creating any client:",
        f"  import os; os.environ.update({python})",
        "Every call is recorded in CloudTrail's event history (aws cloudtrail lookup-events). Stop with Ctrl-C.",
    ]


def client_environment(endpoint_url: str) -> dict[str, str]:
    """The variables that point a client at ``endpoint_url`` with the graded code's keys and region."""
    from mlalab.sandbox.jail_command import child_environment

    graded = child_environment(Path("."))
    return {"AWS_ENDPOINT_URL": endpoint_url, **{name: graded[name] for name in GRADED_VARIABLES}}


def scenario_lines(lab: Lab, seed: int, calls: dict[str, dict]) -> list[str]:
    """The scenario's names, as the keyword arguments each of the lab's functions would receive."""
    lines = [f"Lab {lab.number} ({lab.title}): scenario built with seed {seed}. "
             "Your functions would be called with:"]
    for name, kwargs in calls.items():
        lines.append(f"  {name}(")
        lines += [f"      {key}={value!r}," for key, value in kwargs.items()]
        lines.append("  )")
    if not calls:
        lines.append("  (the scenario never called learner(...): no function arguments to show)")
    return lines


def build_scenario(server, lab: Lab, seed: int) -> dict[str, dict]:
    """Build ``lab``'s scenario on ``server`` with the lab's own fixtures; returns what ``learner(calls)``
    was given (function name -> keyword arguments). No learner code runs and no check is graded."""
    from mlalab import plugin
    from mlalab.plugin import GradingOptions, GradingSession, Recorder

    scenario_only = ScenarioOnly(server)
    args = [str(lab.test_module), "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:randomly",
            "--import-mode=importlib", "--rootdir", str(PROJECT_ROOT), "-c", str(PROJECT_ROOT / "pyproject.toml"),
            "-o", "addopts="]
    # The order matters: ScenarioOnly's fixtures override the plugin's because they are registered after it.
    plugins = [plugin, GradingSession(GradingOptions(submissions=(None,), seed=seed), Recorder()),
               scenario_only]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=plugins)
    if code != pytest.ExitCode.OK or not scenario_only.built:
        detail = "\n".join(scenario_only.failures) or sink.getvalue()
        raise ScenarioError(f"lab {lab.number}'s scenario could not be built (pytest exit {int(code)}):\n"
                            f"{detail[-3000:]}")
    return scenario_only.calls


def _build(scenario) -> None:
    """The one item of a serve session: requesting ``scenario`` builds it (with its own fixtures)."""


class ScenarioOnly:
    """The plugin that turns a grading session into a scenario build (see the module docstring)."""

    ITEM = "mlalab-serve-scenario"

    def __init__(self, server) -> None:
        self.server = server
        self.calls: dict[str, dict] = {}
        self.failures: list[str] = []
        self.built = False

    @pytest.fixture(scope="session")
    def lab_server(self):
        """The served server, instead of a grading one: the scenario must be built where clients look."""
        return self.server

    @pytest.fixture(scope="module")
    def learner(self):
        """``learner(calls)`` records the keyword arguments the lab's functions would receive; no
        sandbox starts and no learner code runs."""

        def record(calls: dict[str, dict]) -> None:
            self.calls.update(calls)

        return record

    @pytest.hookimpl(trylast=True)  # after the plugin has checked the lab's tests against lab.yaml
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        module = items[0].getparent(pytest.Module) if items else None
        if module is None:
            return  # nothing collected: reported as a failure by build_scenario
        config.hook.pytest_deselected(items=list(items))  # no check runs
        items[:] = [pytest.Function.from_parent(module, name=self.ITEM, callobj=_build)]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failures.append(report.longreprtext)
        elif report.when == "call" and report.nodeid.endswith(self.ITEM):
            self.built = True

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.failures.append(report.longreprtext)


class _Stop(Exception):
    """Raised by the signal handler to end :meth:`_StopSignals.wait`."""


class _StopSignals:
    """SIGINT (Ctrl-C) and SIGTERM stop the server cleanly. While the server starts and the scenario
    is built a signal is only noted (an exception in the middle of pytest or moto would leave a
    half-built state and a traceback); :meth:`wait` returns at once if one came, or when one comes."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.waiting = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopSignals:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        if self.waiting:
            self.waiting = False  # raised once, inside wait()'s try: a second Ctrl-C cannot escape it
            raise _Stop

    def wait(self) -> None:
        try:
            self.waiting = True  # from here a signal raises _Stop, even before the loop's first sleep
            while not self.requested:
                time.sleep(3600)
        except _Stop:
            pass
        self.waiting = False

