"""``mlalab``: the learner's and the instructor's command line.

Every learner-facing failure is one clear line on stderr with exit code 2 (bad lab number, missing
folder, unreadable file); a traceback from mla-labs itself would be a bug.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
import time
from pathlib import Path

from mlalab import report
from mlalab.catalog import CatalogError, Lab, UnknownLab, find_lab, load_labs, read_labs
from mlalab.exiting import end_process
from mlalab.progress import Progress

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A learner-facing problem: printed as one line, exit code 2."""


def workspace_dir(args: argparse.Namespace) -> Path:
    return Path(args.workspace or os.environ.get("MLALAB_WORKSPACE") or "workspace")


def colour(args: argparse.Namespace) -> bool:
    """Colour on a terminal, unless ``--no-color`` or ``NO_COLOR`` says otherwise."""
    return not args.no_color and report.use_colour(sys.stdout)


def catalogue_text(progress: Progress | None = None) -> str:
    lines = [f"{'lab':<4} {'task':<5} {'min':>4}  {'progress':<12} title"]
    for lab in load_labs():
        entry = progress.lab(lab.id) if progress else {}
        if "score" in entry:
            state = f"{entry['score']:g}/{entry['max_score']:g}" + (" done" if entry.get("passed") else "")
        else:
            state = "not started"
        lines.append(f"{lab.number:<4} {lab.task:<5} {lab.minutes:>4}  {state:<12} {lab.title}")
    return "\n".join(lines)


def resolve_lab(token: str, workspace: Path | None = None) -> Lab:
    """The lab the learner named; otherwise a CliError listing the labs, with the learner's progress
    when their workspace is known (as ``mlalab list`` shows it)."""
    try:
        if not token.strip():
            raise UnknownLab("which lab? Give its number, e.g. 1")
        return find_lab(token)
    except UnknownLab as exc:
        raise CliError(f"{exc}. The labs are:\n{catalogue_text(Progress(workspace) if workspace else None)}") from exc


# --- learner commands ---------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    print(catalogue_text(Progress(workspace_dir(args))))
    return EXIT_OK


def ensure_started(lab: Lab, workspace: Path, quiet: bool = False) -> Path:
    """Copy the starter into the workspace once; never overwrite the learner's file."""
    target = workspace / lab.workspace_file
    if not target.exists():
        workspace.mkdir(parents=True, exist_ok=True)
        target.write_text(lab.starter_text())
        if not quiet:
            print(f"Created {target} from the starter. Instructions: {lab.instructions_path}")
    return target


def cmd_start(args: argparse.Namespace) -> int:
    lab = resolve_lab(args.lab, workspace_dir(args))
    target = workspace_dir(args) / lab.workspace_file
    if target.exists():
        print(f"{target} already exists; keeping your work (use `mlalab reset {lab.id}` to start over).")
    else:
        ensure_started(lab, workspace_dir(args))
    from mlalab.extras import ExtraInstallError, ensure_extras

    try:  # a lab.yaml `extras: [sdk]`: installed now, once; offline, the lab still works with boto3
        ensure_extras(lab)
    except ExtraInstallError as exc:
        print(f"mlalab start: {exc}", file=sys.stderr)
    print(f"\nLab {lab.number}: {lab.title} (task {lab.task}, about {lab.minutes} min)")
    print(f"Write these functions in {target}:")
    for fn in lab.functions:
        print(f"  {fn.signature()}")
    print(f"Then run: make lab-{lab.id}   (or: mlalab check {lab.id})")
    return EXIT_OK


def _grade_and_print(lab: Lab, workspace: Path, args: argparse.Namespace, grader=None):
    """Grade one lab and print the report; ``grader`` (a ``mlalab.warm.WarmGrader``) grades warm."""
    from mlalab.grading import grade

    report.progress(f"grading lab {lab.number}…")
    try:
        if grader is not None:
            result = grader.grade(workspace, [lab], seed=args.seed, timeout=args.timeout)
        else:
            result = grade(workspace, [lab], seed=args.seed, timeout=args.timeout)
    finally:
        report.progress("")
    print(report.render(result, colour=colour(args)), end="")
    Progress(workspace).record(lab.id, result.score, result.max_score)
    return result


def cmd_check(args: argparse.Namespace) -> int:
    lab = resolve_lab(args.lab, workspace_dir(args))
    workspace = workspace_dir(args)
    ensure_started(lab, workspace)
    if lab.extras:  # (only then: mlalab.extras imports packaging and importlib.metadata, ~40 ms)
        from mlalab.extras import ExtraInstallError, ensure_extras

        try:  # as in `start`: a learner who never ran it gets the lab's extras here
            ensure_extras(lab)
        except ExtraInstallError as exc:
            print(f"mlalab check: {exc}", file=sys.stderr)
    result = _grade_and_print(lab, workspace, args)
    return EXIT_OK if result.status == "pass" else EXIT_FAILED


def cmd_hint(args: argparse.Namespace) -> int:
    lab = resolve_lab(args.lab, workspace_dir(args))
    if not lab.hints:
        print(f"Lab {lab.number} has no hints.")
        return EXIT_OK
    progress = Progress(workspace_dir(args))
    shown = min(progress.next_hint(lab.id), len(lab.hints))
    for number in range(1, shown + 1):
        print(f"Hint {number}/{len(lab.hints)}: {lab.hints[number - 1]}")
    if shown == len(lab.hints):
        print("That was the last hint.")
    return EXIT_OK


def cmd_reset(args: argparse.Namespace) -> int:
    lab = resolve_lab(args.lab, workspace_dir(args))
    workspace = workspace_dir(args)
    target = workspace / lab.workspace_file
    if target.exists():
        backups = workspace / ".mlalab" / "backups"
        backups.mkdir(parents=True, exist_ok=True)
        backup = backups / f"{lab.module_name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}.py"
        shutil.copy2(target, backup)
        print(f"Your previous file is kept at {backup}")
    workspace.mkdir(parents=True, exist_ok=True)
    target.write_text(lab.starter_text())
    print(f"{target} now holds the starter again.")
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    lab = resolve_lab(args.lab, workspace_dir(args))
    workspace = workspace_dir(args)
    target = ensure_started(lab, workspace)
    print(f"Watching {target}; grading on every save (Ctrl-C to stop).")
    # A warm grader: the imports, the lab's AWS with its services loaded and a learner sandbox ready
    # before the next save; every grading still gets a clean AWS and a fresh learner process.
    grader = None
    if not args.cold:
        from mlalab.warm import WarmGrader

        grader = WarmGrader([lab], preload_now=False)
    last, runs = None, 0
    try:
        while args.max_runs is None or runs < args.max_runs:
            stamp = target.stat().st_mtime_ns if target.exists() else None
            if stamp != last:
                last = stamp
                runs += 1
                _grade_and_print(lab, workspace, args, grader)
                if grader is not None and grader.disturbed:  # start afresh after a hostile or broken run
                    grader.close()
                    grader = WarmGrader([lab], preload_now=False)
                print(f"\nWaiting for changes to {target}…", flush=True)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print()
    finally:
        if grader is not None:
            grader.close()
    return EXIT_OK


def cmd_solution(args: argparse.Namespace) -> int:
    lab = resolve_lab(args.lab, workspace_dir(args))
    if not lab.solution_path.is_file():
        raise CliError(f"lab {lab.number} has no reference solution in this edition")
    passed = Progress(workspace_dir(args)).lab(lab.id).get("ever_passed")
    if not (passed or args.force):
        raise CliError(f"the reference solution for lab {lab.number} unlocks once your lab passes "
                       f"(make lab-{lab.id}); instructors can use --force")
    print(lab.solution_path.read_text(), end="")
    return EXIT_OK


# --- grading for CI and instructors ------------------------------------------------------------


def signing_key() -> bytes | None:
    """The instructor's secret (``MLALAB_SIGNING_KEY``); it never enters the learner's environment."""
    key = os.environ.get("MLALAB_SIGNING_KEY")
    return key.encode() if key else None


def cmd_grade(args: argparse.Namespace) -> int:
    from mlalab.formats import write
    from mlalab.formats.integrity import UNVERIFIABLE_NOTE
    from mlalab.grading import GradingError, grade

    labs = [resolve_lab(token) for token in dict.fromkeys(args.lab)] if args.lab else list(load_labs())
    if args.reference:
        if any(not lab.solution_path.is_file() for lab in labs):  # the learner edition ships starters only
            raise CliError("this edition has no reference solutions")
        submission = None
    else:
        if not args.path:
            raise CliError("grade needs a submission folder (or --reference)")
        submission = Path(args.path)
        if submission.is_file():
            lab_file = re.fullmatch(r"lab(\d+)\.py", submission.name)
            tip = (f"; to grade only this file: mlalab grade {submission.parent} --lab {int(lab_file[1])}"
                   if lab_file else "")
            raise CliError(f"{submission} is a file, but grade needs a submission folder laid out like the workspace "
                           f"(lab01.py, lab02.py, ...){tip}")
        if not submission.is_dir():
            raise CliError(f"submission folder {submission} does not exist")
    try:
        result = grade(submission, labs, seed=args.seed, timeout=args.timeout)
    except GradingError as exc:
        print(f"mlalab grade: grading could not run: {exc}", file=sys.stderr)
        return 3
    if args.format == "text":
        text = report.render(result, colour=not args.out and colour(args))
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
    else:
        # Written only now, by the grader, after the learner's process has exited; signed with a
        # per-run nonce (and the instructor's key when set) that the learner's process never saw.
        key = signing_key()
        text = write(result, args.format, args.out, secrets.token_hex(16), key)
        if key is None:
            print(UNVERIFIABLE_NOTE, file=sys.stderr)
        from mlalab.sandbox.isolation import practice_note  # a course's document graded practice-grade
        if (note := practice_note(result)) is not None:
            print(note, file=sys.stderr)
    if not args.out:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def cmd_grade_many(args: argparse.Namespace) -> int:
    from mlalab import batch
    from mlalab.formats.integrity import UNVERIFIABLE_NOTE

    jobs = args.jobs if args.jobs is not None else batch.default_jobs()
    if jobs < 1:
        raise CliError("--jobs must be at least 1")
    if args.timeout <= 0:
        raise CliError("--timeout must be more than 0 seconds")
    lab = resolve_lab(args.lab) if args.lab else None
    if args.require_isolation:  # refuse before grading anything: the level is the machine's
        from mlalab.sandbox.isolation import IsolationUnavailable, require_isolation
        try:
            require_isolation(args.require_isolation)
        except IsolationUnavailable as exc:
            raise CliError(f"--require-isolation: {exc}") from exc
    options = batch.Options(labs=[lab] if lab else list(load_labs()), lab_arg=str(lab.id) if lab else None,
                            seed=args.seed if args.seed is not None else secrets.randbelow(10**6 - 1) + 1,
                            timeout=args.timeout, jobs=jobs, cold=args.cold)
    key = signing_key()
    try:
        outcome = batch.run([Path(p) for p in args.paths], Path(args.out), options, key=key)
    except batch.BatchInputError as exc:
        raise CliError(str(exc)) from exc
    if key is None:  # the documents in results/ are signed with one-time nonces only
        print(UNVERIFIABLE_NOTE, file=sys.stderr)
    if outcome.grader_errors == len(outcome.results):
        print("mlalab grade-many: grading could not run for any submission (see the reasons above)",
              file=sys.stderr)
        return 3
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from mlalab import export

    try:
        summary = export.export_learner(Path(args.learner))
    except export.ExportError as exc:
        raise CliError(str(exc)) from exc
    hidden = f", {len(summary.hidden_checks)} hidden checks left out" if summary.hidden_checks else ""
    print(f"Wrote the learner edition to {summary.dest}: {summary.labs} labs with starters, {summary.files} "
          f"files, no reference solutions{hidden}.")
    print(f"Learners run: cd {summary.dest} && make lab-1")
    return EXIT_OK


def cmd_gradescope_package(args: argparse.Namespace) -> int:
    from mlalab.catalog import PROJECT_ROOT
    from mlalab.formats.gradescope import build_autograder_zip

    try:
        path = build_autograder_zip(Path(args.out), PROJECT_ROOT)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    print(path)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Check that a results document (any format) was written and signed by a grader holding the
    instructor's key: exit 0 when it was, 1 when it was not."""
    from mlalab.formats import github, junit
    from mlalab.formats.integrity import verify

    key = signing_key()
    if key is None:
        raise CliError("MLALAB_SIGNING_KEY is not set: only the instructor's key can tell a grader's document "
                       "from a forged one (set it to the key the documents were graded with)")
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {args.file}: {exc}") from exc
    stripped = text.strip()
    try:
        if stripped.startswith("<"):
            valid = junit.verify(text, key)
        elif stripped.startswith("{"):
            valid = verify(json.loads(stripped), key)
        else:
            valid = verify(github.decode(stripped), key)
    except (ValueError, TypeError) as exc:
        raise CliError(f"{args.file} is not a results document of mla-labs (json, junit, gradescope or "
                       f"github): {exc}") from exc
    if valid:
        print(f"{args.file}: valid, signed with MLALAB_SIGNING_KEY")
        return EXIT_OK
    print(f"{args.file}: NOT VALID: it was changed after grading, or not signed with this key")
    return EXIT_FAILED


def cmd_serve(args: argparse.Namespace) -> int:
    from mlalab import serve

    lab = resolve_lab(args.lab, workspace_dir(args)) if args.lab is not None else None
    try:
        return serve.run(lab, port=args.port, seed=args.seed, allow_reset=args.allow_reset)
    except serve.ServeError as exc:
        raise CliError(str(exc)) from exc
    except serve.ScenarioError as exc:
        print(f"mlalab serve: {exc}", file=sys.stderr)
        return 3


def cmd_iam_simulate(args: argparse.Namespace) -> int:
    from mlalab import iam_simulate

    return iam_simulate.run(args)


def cmd_iam_grants(args: argparse.Namespace) -> int:
    from mlalab import iam_grants

    return iam_grants.run(args)


def cmd_reachability(args: argparse.Namespace) -> int:
    from mlalab import reachability

    return reachability.run(args)


# --- maintainer tools (mlalab dev ...) -----------------------------------------------------------


def cmd_dev_check(args: argparse.Namespace) -> int:
    from mlalab.dev import check

    return check.run(Path(args.root))


def cmd_dev_readme(args: argparse.Namespace) -> int:
    from mlalab.dev import readme

    root = Path(args.root)
    try:
        changed = readme.write(root / "README.md", read_labs(root / "labs"))
    except (readme.ReadmeError, OSError) as exc:
        raise CliError(str(exc)) from exc
    print(f"{root / 'README.md'}: the labs table {'is rewritten' if changed else 'was already up to date'}.")
    return EXIT_OK


def cmd_dev_new_lab(args: argparse.Namespace) -> int:
    from mlalab.dev import new_lab

    root = Path(args.root)
    try:
        folder = new_lab.scaffold(root, args.slug, title=args.title, task=args.task)
    except new_lab.NewLabError as exc:
        raise CliError(str(exc)) from exc
    number = int(folder.name.split("_", 1)[0])
    readme_note = " and the README's labs table" if new_lab.refresh_readme(root) else ""
    print(f"Created {folder}{readme_note}: a one-check lab that already grades (lab.yaml, README.md, solution.py, "
          "test_lab.py, mutations.py).")
    print("Replace the scenario, the function and the check, keeping each file's shape; then:")
    for command, expect in ((f"mlalab grade --reference --lab {number}", "full marks"),
                            (f"mlalab check {number}", "the generated starter: zero"),
                            ("mlalab dev check", "the catalogue keeps the lab contract")):
        print(f"  {command:<36} {expect}")
    return EXIT_OK


def cmd_dev_curriculum(args: argparse.Namespace) -> int:
    from mlalab.dev import curriculum

    try:
        target = curriculum.write_copy(Path(args.guide), Path(args.root) / "labs")
        rows = sum(len(task["rows"]) for task in curriculum.load(target.parent).values())
    except curriculum.CurriculumError as exc:
        raise CliError(str(exc)) from exc
    print(f"Wrote {target}: {rows} rows of the exam guide's Domain 4.")
    return EXIT_OK


def add_dev_commands(sub) -> None:
    from mlalab.catalog import PROJECT_ROOT
    from mlalab.dev.curriculum import DEFAULT_SOURCE

    dev = sub.add_parser("dev", help="maintainer tools: check the catalogue, scaffold a lab, the README's table")
    tools = dev.add_subparsers(dest="tool", required=True, metavar="TOOL")
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument("--root", default=str(PROJECT_ROOT), help="the project folder (default: this checkout)")

    def tool(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = tools.add_parser(name, help=help_text, parents=[root])
        p.set_defaults(func=func)
        return p

    tool("check", cmd_dev_check, "check every lab against the lab contract (exit 1 with the problems)")
    tool("readme", cmd_dev_readme, "regenerate the README's labs table from lab.yaml")
    n = tool("new-lab", cmd_dev_new_lab, "scaffold labs/NN_SLUG/, a one-check lab that already grades")
    n.add_argument("slug", help="lowercase words joined by _, e.g. model_monitor_drift")
    n.add_argument("--title", help="the lab's title (default: from the slug)")
    n.add_argument("--task", choices=["4.1", "4.2", "4.3"], default="4.2", help="the exam task (default 4.2)")
    c = tool("curriculum", cmd_dev_curriculum, "parse the exam guide into labs/curriculum.yaml")
    c.add_argument("guide", nargs="?", default=str(DEFAULT_SOURCE), help=f"the guide (default: {DEFAULT_SOURCE})")


# --- parser ------------------------------------------------------------------------------------


def add_global_options(parser: argparse.ArgumentParser, after_command: bool = False) -> None:
    """Options that work before or after the command (``mlalab check 1 --workspace DIR``). After the
    command their default is SUPPRESS, so a command's parser never overwrites a value given before it."""
    default = argparse.SUPPRESS if after_command else None
    parser.add_argument("--workspace", default=default, help="folder with your labNN.py files (default: ./workspace)")
    parser.add_argument("--no-color", "--no-colour", dest="no_color", action="store_true",
                        default=argparse.SUPPRESS if after_command else False, help="never colour the report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlalab", description="Offline, graded AWS labs for MLA-C01 Domain 4")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser)

    def lab_command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("lab", help="lab number, e.g. 1 or 01")
        p.set_defaults(func=func)
        return p

    sub.add_parser("list", help="the labs and your progress").set_defaults(func=cmd_list)
    lab_command("start", cmd_start, "copy a lab's starter into your workspace")
    for name, func, text in (("check", cmd_check, "grade your lab (what make lab-N runs)"),
                             ("watch", cmd_watch, "re-grade on every save")):
        p = lab_command(name, func, text)
        p.add_argument("--seed", type=int, help="reproduce a run's randomised names")
        p.add_argument("--timeout", type=float, default=60.0, help="seconds your code may run (default 60)")
        if name == "watch":
            p.add_argument("--interval", type=float, default=0.1, help=argparse.SUPPRESS)
            p.add_argument("--max-runs", type=int, default=None, help=argparse.SUPPRESS)
            p.add_argument("--cold", action="store_true", help="grade each save in a fresh grader (slower)")
    lab_command("hint", cmd_hint, "show the next hint")
    lab_command("reset", cmd_reset, "restore the starter (your file is backed up first)")
    lab_command("solution", cmd_solution, "show the reference solution once your lab passes").add_argument(
        "--force", action="store_true", help="show it anyway (instructors)")

    g = sub.add_parser("grade", help="grade a submission folder (CI)")
    g.add_argument("path", nargs="?", help="folder laid out like the workspace (labNN.py files)")
    g.add_argument("--lab", action="append", help="grade only this lab (repeat for several)")
    g.add_argument("--format", choices=["text", "json", "junit", "gradescope", "github"], default="text")
    g.add_argument("--out", help="write the document to this file")
    g.add_argument("--reference", action="store_true", help="grade the shipped reference solutions")
    g.add_argument("--seed", type=int)
    g.add_argument("--timeout", type=float, default=60.0)
    g.set_defaults(func=cmd_grade)

    m = sub.add_parser("grade-many", help="grade a class in parallel (instructors)")
    m.add_argument("paths", nargs="+", metavar="DIR",
                   help="a submission folder (labNN.py files) or a folder of submission folders")
    m.add_argument("--out", required=True, help="folder for grades.csv, report.html and results/")
    m.add_argument("--jobs", type=int,
                   help="submissions graded at once (default: the number of CPUs this process may use)")
    m.add_argument("--lab", help="grade only this lab")
    m.add_argument("--seed", type=int, help="one seed for every submission (default: a random batch seed)")
    m.add_argument("--timeout", type=float, default=60.0,
                   help="seconds per lab for learner code (default: 60)")
    m.add_argument("--cold", action="store_true",
                   help="one fresh grader process per submission instead of warm workers (slower; for comparison)")
    m.add_argument("--require-isolation", choices=["process", "chroot-seccomp", "linux-namespaces"],
                   help="refuse to grade if this machine isolates learner code less than this (docs/security.md)")
    m.set_defaults(func=cmd_grade_many)

    e = sub.add_parser("export", help="write the learner edition (no solutions, no hidden checks)")
    e.add_argument("--learner", required=True, metavar="DIR", help="new or empty folder to write it into")
    e.set_defaults(func=cmd_export)

    z = sub.add_parser("gradescope-package", help="build the Gradescope autograder zip")
    z.add_argument("--out", default="autograder.zip", help="zip file to write (default: autograder.zip)")
    z.set_defaults(func=cmd_gradescope_package)

    v = sub.add_parser("verify", help="check a results document's signature (MLALAB_SIGNING_KEY)")
    v.add_argument("file", help="a document written by mlalab grade / grade-many (any format)")
    v.set_defaults(func=cmd_verify)

    w = sub.add_parser("serve", help="the lab's AWS on loopback, for the AWS CLI, boto3 or a notebook (Ctrl-C stops)")
    w.add_argument("--port", type=int, default=5050, help="loopback port (default 5050; 0 picks a free one)")
    w.add_argument("--lab", help="build this lab's scenario first and print the names it created")
    w.add_argument("--seed", type=int, help="seed of the lab's randomised names (the names of mlalab check N --seed S)")
    w.add_argument("--allow-reset", action="store_true", help="open moto's /moto-api/ (always refused when grading)")
    w.set_defaults(func=cmd_serve)

    # The learner tools declare their own options: their modules (and the engines they import) load
    # only when their command is parsed or its help is shown, not on every `mlalab check`.
    sub.add_parser("iam-simulate", help="offline IAM policy simulator",
                   arguments="mlalab.iam_simulate").set_defaults(func=cmd_iam_simulate)
    sub.add_parser("iam-grants", help="what a policy grants, by service, access level and resource",
                   arguments="mlalab.iam_grants").set_defaults(func=cmd_iam_grants)
    sub.add_parser("reachability", help="can traffic flow between two points of a VPC (Reachability Analyzer)",
                   arguments="mlalab.reachability").set_defaults(func=cmd_reachability)

    add_dev_commands(sub)
    for command in sub.choices.values():  # every command, whoever added it
        if command.arguments is None:
            add_global_options(command, after_command=True)
    return parser


class _CommandParser(argparse.ArgumentParser):
    """A command's parser. ``arguments`` names a module whose ``add_arguments(parser)`` declares the
    command's options; it is imported, and the options (then the global ones, as for every command)
    declared, the first time this parser parses or formats its help."""

    def __init__(self, *args, arguments: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.arguments = arguments
        self._declared = arguments is None

    def _declare(self) -> None:
        if not self._declared:
            self._declared = True
            import importlib

            importlib.import_module(self.arguments).add_arguments(self)
            add_global_options(self, after_command=True)

    def parse_known_args(self, args=None, namespace=None):
        self._declare()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._declare()
        return super().format_usage()

    def format_help(self) -> str:
        self._declare()
        return super().format_help()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    one_shot = argv is None and args.command in ONE_SHOT  # the `mlalab` program itself, not a caller's main([...])
    if one_shot:  # the grader's imports too, not only its session: grading.SESSION_GC_THRESHOLDS, before
        import gc  # importing grading (pytest, boto3, moto) makes ~100 collections at the default thresholds

        gc.set_threshold(50_000, 20, 100)
    code = _run(args)
    if one_shot:
        end_process(code)
    return code


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except CliError as exc:
        command = f"{args.command} {args.tool}" if args.command == "dev" else args.command
        print(f"mlalab {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CatalogError as exc:
        print(f"mlalab: the lab catalogue is broken: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


# Commands after which the `mlalab` process has nothing left to do (`make lab-N` runs one check per
# process): it ends without tearing down the grader's heap (``exiting.end_process``: about 0.3 s, longer
# than the floor of the benchmark).
ONE_SHOT = frozenset({"check", "grade"})


if __name__ == "__main__":
    sys.exit(main())
