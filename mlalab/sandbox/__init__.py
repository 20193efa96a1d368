"""Runs the learner's code in a separate, locked-down process.

The grader (trusted) never imports learner code. ``LearnerProcess`` (``run_learner`` for one shot)
starts ``child.py`` in a fresh process that can reach only the lab's moto server, with time, memory
and output caps, and reports what each learner function did as untrusted *events* (used only to
explain failures).

Isolation, strongest available first (docs/security.md has the threat model):
- Linux with user namespaces (``unshare``): new network namespace (no route out; a Unix-socket
  bridge reaches the moto server only), new PID namespace (every process it starts dies with it),
  new IPC and UTS namespaces, a minimal read-only root file system where only the sandbox folder is
  writable and the project, the checks, the reference solutions and every other file of the machine
  do not exist (see ``jail.py``), and a nested user namespace so none of that can be undone. This is
  what CI and workshops get (``LearnerRun.isolation == "linux-namespaces"``).
- Elsewhere (macOS laptops, containers that forbid user namespaces): a separate process group with
  an audit hook that refuses network, subprocesses, native code and writes outside the sandbox
  folder. Enough for practice, reported as such (``"process"``); not a boundary against a
  determined attacker.
Both: an environment built from scratch (fake credentials, no config files, no grader secret),
a wall-clock limit, an address-space limit, and capped, de-fanged output (no terminal control
characters). Everything the learner's process reports is checked against the events ``child.py``
can produce; anything else is counted as forged and dropped.

One module per job: ``jail_command`` (the jail's command line, environment and probe), ``bridge``
(the Unix socket to moto), ``output`` (capped, printable output), ``process`` (the learner's
process), ``events`` (screening what it reports). ``child.py`` and ``jail.py`` run as scripts on
the other side of the fence and import nothing from here.
"""

from mlalab.sandbox.events import screen_events
from mlalab.sandbox.jail_command import REGION, child_environment, namespaces_available
from mlalab.sandbox.output import OUTPUT_CAP, printable
from mlalab.sandbox.process import Call, LearnerProcess, LearnerRun, run_learner

__all__ = ["OUTPUT_CAP", "REGION", "Call", "LearnerProcess", "LearnerRun", "child_environment",
           "namespaces_available", "printable", "run_learner", "screen_events"]
