"""A warm grader: a long-lived grader that pays the start-up once and grades submission after submission.

What it keeps between gradings is only what does not depend on a submission: the grader's imports,
the moto server with the labs' services loaded (its backends, the extensions, the grader's boto3
clients and their service models), and one learner process started ahead of need (its jail built,
boto3 imported, waiting for a submission it has not seen). What it never keeps: every lab still
starts from a clean AWS (moto's reset and every extension's, ``fixtures.moto_ext.reset``: Lambda
handler processes included), and every submission runs in a fresh learner process of its own, used
once and killed with everything it started, in a sandbox folder removed afterwards. The learner's
code never runs in this process, so nothing of it can stay here.

``mlalab watch`` grades in a warm grader of its own; ``mlalab grade-many`` runs one per job as a
worker process (``python -m mlalab.warm``, the protocol below) and replaces a worker that was
disturbed (``WarmGrader.disturbed``).

Worker protocol (one JSON object per line): the worker answers ``{"ready": true}`` once warm; then
for each request ``{"submission": DIR or null, "labs": [ids], "out": FILE, "seed": N, "timeout": S}``
it writes the signed JSON results document to ``out`` (``MLALAB_SIGNING_KEY`` from its environment)
and answers ``{"done": true, "disturbed": "why" or null}``; an empty line or end of input stops it.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import secrets
import sys
import threading
import time
from pathlib import Path

from mlalab.catalog import Lab, find_lab, is_starter, load_labs
from mlalab.exiting import end_process
from mlalab.grading import grade
from mlalab.plugin import Aws
from mlalab.results import LabResult, SubmissionResult, is_starters_grade, was_stopped
from mlalab.sandbox import LearnerProcess
from mlalab.sandbox.child import PRELOADS, roots_imported_by
from mlalab.sandbox.forkserver import ForkServer
from mlalab.server import LabServer, preload_services

MAX_GRADINGS = 200  # a worker is replaced after this many gradings (bounds slow growth of any kind)
MAX_RSS_MB = 360  # ...or once its memory reaches this: a worker stays under 400 MB (it grows ~8 MB a grading)
SLOW_PRELOADS = {"sagemaker"}  # not imported ahead by the fork server (preloaded_libraries)


# One read-only call per service that needs no parameters: the server builds the service's routes and
# moto its backend on a service's first request. Services not listed are loaded by their first request.
HARMLESS_CALLS = {
    "cloudtrail": "describe_trails", "cloudwatch": "list_metrics", "config": "describe_config_rules",
    "ec2": "describe_vpcs", "events": "list_rules", "iam": "list_roles", "kms": "list_keys",
    "lambda": "list_functions", "logs": "describe_log_groups", "organizations": "list_roots",
    "resourcegroupstaggingapi": "get_resources", "s3": "list_buckets", "sagemaker": "list_endpoints",
    "sns": "list_topics", "sqs": "list_queues", "sts": "get_caller_identity",
}


def preload(server: LabServer, clients: Aws, labs: list[Lab]) -> None:
    """Load, for ``labs``' services, what a grading's first requests would: moto's models and
    backends, the server's routes, the grader's boto3 clients; then reset, so that nothing of it is
    AWS state."""
    services = list(dict.fromkeys(s for lab in labs for s in lab.services))
    preload_services(services)
    for service in services:
        try:
            client = clients.client(service)  # loads the service model, once per grader
            if service in HARMLESS_CALLS:
                getattr(client, HARMLESS_CALLS[service])()
        except Exception:  # noqa: BLE001 - any answer will do: what was to be loaded is loaded
            pass
    server.reset()


class WarmGrader:
    """Grades submissions one after another with the start-up paid once (see the module docstring).

    ``labs``: the labs it will grade (their services are loaded ahead); ``preload_now`` False leaves
    that to a background thread (``mlalab watch`` starts grading at once)."""

    def __init__(self, labs: list[Lab] | None = None, *, preload_now: bool = True) -> None:
        self.labs = list(labs) if labs is not None else list(load_labs())
        self._server_cm = LabServer()
        self.server = self._server_cm.__enter__()
        self.clients = Aws(self.server.endpoint_url, self.server.app)
        self.gradings = 0
        self.disturbed: str | None = None  # why this grader should be replaced, once it should
        self.forks = start_fork_server(self.labs)
        self.server.lambda_pool.forks = self.forks  # Lambda handlers are learner processes too
        self._spare: LearnerProcess | None = None
        self._starters: dict[tuple, LabResult] = {}  # the untouched starters' grades (_starter_key)
        self._starter_texts: dict[int, str] = {}
        self._spare_lock = threading.Lock()
        self._closed = False
        self._start_spare()
        # The preload ends by resetting moto (process-wide): no grading may run until it is done, so
        # grade() and close() wait for it (a grading racing it lost its scenario mid-way).
        self._preloading: threading.Thread | None = None
        if preload_now:
            preload(self.server, self.clients, self.labs)
        else:
            self._preloading = threading.Thread(target=preload, args=(self.server, self.clients, self.labs),
                                                daemon=True, name="mlalab-preload")
            self._preloading.start()

    def _preloaded(self) -> None:
        """Wait for the background preload (and its final reset) to finish."""
        if self._preloading is not None:
            self._preloading.join()
            self._preloading = None

    # --- the learner process started ahead of need ---------------------------------------------

    def _start_spare(self) -> None:
        with self._spare_lock:
            if self._closed or (self._spare is not None and self._spare.alive()):
                return
            if self._spare is not None:
                self._spare.close()
            self._spare = LearnerProcess.ahead(self.server.port, self.forks)

    def learner(self, module_file: Path, module_name: str, *, memory_mb: int,
                blocked_paths: list[str]) -> LearnerProcess:
        """The process started ahead, given this submission (a new one if it is gone): used once."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        # The next lab's (or submission's) process starts now, while this one's scenario, run and checks
        # go on: every lab of a submission gets a process that has already imported boto3.
        self._start_spare()
        if spare is None or not spare.alive():
            if spare is not None:
                spare.close()
            return LearnerProcess(module_file, module_name, self.server.port, memory_mb=memory_mb,
                                  blocked_paths=blocked_paths, forks=self.forks)
        return spare.assign(module_file, module_name, memory_mb=memory_mb, blocked_paths=blocked_paths)

    # --- grading ----------------------------------------------------------------------------------

    def grade(self, submission: Path | None, labs: list[Lab] | None = None, *, seed: int | None = None,
              timeout: float = 60.0, memory_mb: int = 1024) -> SubmissionResult:
        """Grade ``labs`` (default: this grader's) of ``submission`` (None: the reference solutions)."""
        if self._closed:
            raise RuntimeError("this warm grader is closed")
        self._preloaded()
        labs = list(labs) if labs is not None else self.labs
        started = time.monotonic()
        keys = {lab.id: self._starter_key(submission, lab, seed, timeout, memory_mb) for lab in labs}
        known = {lab.id: self._starters[keys[lab.id]] for lab in labs if keys[lab.id] in self._starters}
        to_grade = [lab for lab in labs if lab.id not in known]
        result = None
        if to_grade:
            try:
                result = grade(submission, to_grade, seed=seed, timeout=timeout, memory_mb=memory_mb, warm=self)
            except BaseException:
                self.disturbed = "grading itself failed"
                raise
            finally:
                self.gradings += 1
                release_moto_caches()
                self._start_spare()  # for the next submission, while this one's report is written
            self.disturbed = self.disturbed or disturbance(result, self.gradings)
            # A disturbed grader keeps nothing (and is replaced): a starter's grade is kept only from a
            # grading in which no lab of the submission had to be stopped or refused, and only when it
            # earned nothing (as every lab's contract test shows a starter does).
            for lab, lab_result in zip(to_grade, result.labs, strict=True) if self.disturbed is None else ():
                key = keys[lab.id]
                # Kept only if the file was the starter before and after (``watch``: a save while grading)
                if key is not None and key == self._starter_key(submission, lab, seed, timeout, memory_mb) \
                        and is_starters_grade(lab_result):
                    self._starters[key] = copy.deepcopy(lab_result)
        if not known:
            return result
        graded = {r.lab: r for r in result.labs} if result is not None else {}
        results = [graded[lab.id] if lab.id in graded else copy.deepcopy(known[lab.id]) for lab in labs]
        return SubmissionResult.of_labs(result.submission if result is not None else str(submission), results,
                                        round(time.monotonic() - started, 3))

    def _starter_key(self, submission: Path | None, lab: Lab, seed: int | None, timeout: float,
                     memory_mb: int) -> tuple | None:
        """The key under which the grade of ``lab``'s untouched starter is kept, when ``submission``'s file
        is exactly that starter and the grading is reproducible (a fixed seed); else None.

        The starter is the project's own file, not the learner's: every function raises
        NotImplementedError. Graded with the same seed and limits it earns the same result every time
        (nothing, with the same messages: the scenario's names come from the seed), so a warm grader
        grades it once per lab and hands out copies. A class batch is mostly untouched starters: the
        labs a learner has not reached yet. Any change to the file, even a space, is graded as ever."""
        if submission is None or seed is None:
            return None
        if lab.id not in self._starter_texts:
            self._starter_texts[lab.id] = lab.starter_text()
        if not is_starter(submission / lab.workspace_file, self._starter_texts[lab.id]):
            return None
        return lab.id, lab.edition, seed, timeout, memory_mb

    def close(self) -> None:
        self._preloaded()  # its reset must not outlive this grader and hit another's grading
        with self._spare_lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()
        if self.forks is not None:
            self.forks.close()
        self._server_cm.__exit__(None, None, None)

    def __enter__(self) -> WarmGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_fork_server(labs: list[Lab]) -> ForkServer | None:
    """The learner processes' fork server, warm with the models of the services the learner's code is
    likely to need (``preloaded_services``); None where there is none (not Linux, or
    ``MLALAB_FORK_SERVER=0``): learner processes then start the ordinary way. Until it is ready (its
    boto3 import), they start the ordinary way too: a grading never waits for it."""
    if os.environ.get("MLALAB_FORK_SERVER", "1") == "0":
        return None
    try:
        return ForkServer(preloaded_services(labs), preloaded_libraries(labs), wait_ready=False)
    except OSError:
        return None


def preloaded_services(labs: list[Lab]) -> list[str]:
    """Every service the labs name: each learner process forked then finds its models loaded. A model
    costs the fork server memory, shared by its children, and saves each learner process that uses the
    service its loading: preloading the seven services only one lab of ten uses (EC2, Lambda, Config, Cost
    Explorer, ...) took 1.92 to 1.75 s of learner CPU off a reference submission of all ten labs, for
    9.5 MB more fork server (28 to 37 MB, proportional set size)."""
    return sorted({service for lab in labs for service in lab.services})


def preloaded_libraries(labs: list[Lab]) -> list[str]:
    """The libraries of ``child.PRELOADS`` (those that keep a reference to ctypes) that a lab's
    starter imports, but the SageMaker SDK (1.3 s, 100 MB: only its users pay for it). The fork server imports
    them, so every learner process forked has them, exactly as one whose file imports them would have
    (``child.preload_for``, before the audit hook, ctypes dropped from ``sys.modules`` again): a learner
    can get no more by importing them than any learner could by naming them in the file. numpy for
    lab 09 took each of its learner processes from 0.22 to ~0.1 s of CPU."""
    roots: set[str] = set()
    for lab in labs:
        roots |= roots_imported_by(lab.starter_text())
    return sorted((roots & PRELOADS.keys()) - SLOW_PRELOADS)


def release_moto_caches() -> None:
    """Clear moto's per-instance caches that keep reset state alive.

    ``moto.ec2.models.subnets.Subnet._base_avail_ip_iterator`` is a ``functools.cache`` on a method:
    it holds every Subnet ever made, and through it the whole EC2 backend the subnet belonged to (its
    ~1,300 default AMIs, volumes and snapshots), so each reset EC2 stayed in memory (~7 MB a grading,
    the bulk of a warm worker's growth). Called between gradings, when no AWS state is in use."""
    subnets = sys.modules.get("moto.ec2.models.subnets")
    method = getattr(getattr(subnets, "Subnet", None), "_base_avail_ip_iterator", None)
    if method is not None and hasattr(method, "cache_clear"):
        method.cache_clear()


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def disturbance(result: SubmissionResult, gradings: int) -> str | None:
    """Why a worker that just graded ``result`` should be replaced, or None.

    The learner's code never ran in the worker, and the next grading resets AWS and gets a fresh
    learner process whatever happened; replacing the worker anyway when something went wrong (a
    grader error, a learner that had to be stopped, a sandbox refusal, forged events) costs one
    start-up and leaves nothing to argue about. Long-lived workers are also replaced after
    MAX_GRADINGS gradings or MAX_RSS_MB of memory."""
    if result.status == "error":
        return "a grading ended in error"
    if was_stopped(result):
        return "the learner's code had to be stopped or refused"
    if gradings >= MAX_GRADINGS:
        return f"{gradings} gradings"
    if (rss := peak_rss_mb()) > MAX_RSS_MB:
        return f"its memory reached {rss:.0f} MB"
    return None


# --- the worker process of grade-many -----------------------------------------------------------


def keep_on_cpu(cpu: str | None) -> None:
    """Keep this worker on CPU ``cpu`` (``MLALAB_WORKER_CPU``, chosen by ``batch.worker.worker_cpus``
    when a batch has a worker per CPU), and so every process it starts: its fork server, learner processes
    and Lambda handlers inherit it. Every thread of this process is pinned, not only the calling one. A CPU
    that cannot be had leaves the worker to the scheduler: this is speed, not isolation."""
    if not cpu or not cpu.isdigit() or not hasattr(os, "sched_setaffinity"):
        return
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for tid in threads:
        try:
            os.sched_setaffinity(tid, {int(cpu)})
        except OSError:  # a CPU this process may not use, or a thread that has just ended
            pass


def serve(stdin=None, stdout=None) -> int:
    """Run as a grade-many worker: warm up, then grade requests from ``stdin`` (module docstring)."""
    from mlalab.formats import write

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    key = os.environ.get("MLALAB_SIGNING_KEY")
    labs = [find_lab(int(n)) for n in json.loads(os.environ.get("MLALAB_WARM_LABS", "null")) or []] or None
    keep_on_cpu(os.environ.get("MLALAB_WORKER_CPU"))  # before the grader starts its threads and processes
    with WarmGrader(labs) as grader:
        print(json.dumps({"ready": True}), file=stdout, flush=True)
        for line in stdin:
            if not line.strip():
                break
            request = json.loads(line)
            submission = Path(request["submission"]) if request.get("submission") else None
            result = grader.grade(submission, [find_lab(int(n)) for n in request["labs"]], seed=request["seed"],
                                  timeout=float(request["timeout"]))
            write(result, "json", request["out"], secrets.token_hex(16), key.encode() if key else None)
            print(json.dumps({"done": True, "disturbed": grader.disturbed}), file=stdout, flush=True)
            if grader.disturbed:
                break
    return 0


if __name__ == "__main__":
    code = serve()
    end_process(code)  # a batch waits for its workers to end: not for their heaps' teardown (1.4 s)
    sys.exit(code)
