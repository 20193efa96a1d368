"""Turn what happened in the learner's process into plain-language feedback.

Every learner-caused problem (syntax error, import error, missing or misnamed function, wrong
signature, an exception, an AWS error, a time-out, a crash) becomes one message that names the
learner's file and line where it can. None of this changes a score: the checks grade AWS state.
"""

from __future__ import annotations

import signal

from mlalab.catalog import Lab
from mlalab.sandbox import LearnerRun

# What an AWS error code usually means for lab code, said the way a mentor would.
AWS_ERROR_HINTS = {
    "ValidationError": "a parameter value is invalid; the message names it (check units, names and allowed values)",
    "ValidationException": "a parameter value is invalid; the message names it",
    "InvalidParameterValue": "a parameter value is invalid; the message names it",
    "InvalidParameterCombination": "two parameters cannot be used together (e.g. Statistic and "
                                   "ExtendedStatistic, or MetricName and Metrics)",
    "MissingParameter": "a required parameter is missing",
    "ResourceNotFound": "a name or ARN does not exist: use the names the grader passes to your function",
    "ResourceNotFoundException": "a name or ARN does not exist: use the names the grader passes to your "
                                 "function",
    "NoSuchEntity": "the IAM entity does not exist (yet): create it before attaching to it",
    "NoSuchBucket": "that bucket does not exist: use the bucket name passed to your function",
    "NotFoundException": "a name or ARN does not exist: use the names the grader passes to your function",
    "EntityAlreadyExists": "it already exists: a function that may run twice should check first or "
                           "use a put/update call",
    "MalformedPolicyDocument": "the policy JSON is not a valid IAM policy (Version, Statement, Effect, "
                               "Action, Resource)",
    "AccessDenied": "the caller is not allowed to do this; read which action and resource were denied",
    "AccessDeniedException": "the caller is not allowed to do this; read which action and resource were "
                             "denied",
    "LimitExceeded": "a service quota was hit (IAM policy sizes, white space not counted: a role's inline "
                     "policies 10,240 characters together, a managed policy 6,144, a trust policy 2,048)",
    "InvalidParameterException": "a parameter value is invalid; the message names it (e.g. retentionInDays "
                                 "takes only the listed numbers of days)",
    "InvalidBucketName": "bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, "
                         "starting and ending with a letter or digit",
    "MalformedPolicy": "the bucket policy is invalid: it must be JSON, name a Principal in every statement and "
                       "only resources of this bucket",
    "MalformedPolicyDocumentException": "the key policy is not a valid JSON policy document",
}


def _where(lab: Lab, error: dict | None) -> str:
    where = (error or {}).get("where")
    if not where:
        return ""
    code = f"  ->  {where['code']}" if where.get("code") else ""
    return f" at {lab.workspace_file} line {where['line']}{code}"


def describe_error(lab: Lab, function: str, error: dict) -> str:
    kind, message = error.get("type", "Exception"), error.get("message", "")
    where = _where(lab, error)
    if error.get("aws_code"):
        code = error["aws_code"]
        hint = AWS_ERROR_HINTS.get(code, "read the message: AWS says what it rejected")
        if code == "NoSuchEntity" and "arn:aws:iam::aws:policy/" in str(error.get("aws_message", "")):
            hint = ("AWS managed policies are not loaded in these offline labs; they are also broader than "
                    "least privilege allows: write your own policy with the exact actions and resources")
        return (f"{function} failed: AWS returned {code} from {error.get('operation') or 'a call'}{where}: "
                f"{error.get('aws_message', message)} (hint: {hint})")
    if kind == "ParamValidationError":
        return (f"{function} failed{where}: boto3 rejected the request before sending it: {message} "
                "(a parameter name or type does not match the API)")
    if kind == "SystemExit":
        return (f"{function} called {message}{where}: lab functions must return, not exit the process; "
                "the grader carried on with the next function")
    if kind == "MemoryError":
        return f"{function} ran out of memory{where} (the lab's memory limit was reached)"
    return f"{function} raised {kind}{where}: {message}"


def problems(lab: Lab, run: LearnerRun, timeout: float, memory_mb: int) -> list[str]:
    """Learner-facing notes for one lab run, most important first."""
    out: list[str] = []
    if run.module_missing:
        return [f"{lab.workspace_file} was not found in the submission: run `mlalab start {lab.id}` to "
                "create it from the starter"]
    imported = run.import_event()
    if imported and imported.get("status") == "syntax":
        e = imported["error"]
        caret = " " * max((e.get("offset") or 1) - 1, 0) + "^"
        out.append(f"{lab.workspace_file} line {e.get('line')}: SyntaxError: {e.get('message')}\n"
                   f"    {e.get('code', '')}\n    {caret}\nNothing in the file could run, so no check can pass.")
    elif imported and imported.get("status") == "raised":
        out.append(f"{lab.workspace_file} could not be imported: "
                   f"{describe_error(lab, 'the module', imported['error'])}. No function could be called.")
    elif imported and imported.get("status") == "exit":
        e = imported.get("error") or {}
        out.append(f"{lab.workspace_file} called {e.get('message', 'sys.exit()')} while it was being imported"
                   f"{_where(lab, e)}: a lab file must only define its functions, not exit the process. "
                   "No function could be called.")
    for fn in lab.functions:
        event = run.call_event(fn.name)
        if event is None:
            continue
        status = event.get("status")
        if status == "missing":
            close = event.get("close") or []
            suggestion = f" (did you mean {close[0]}?)" if close else ""
            out.append(f"{lab.workspace_file} has no function {fn.name}{suggestion}: the grader calls "
                       f"{fn.signature()}")
        elif status == "signature":
            out.append(f"{fn.name} has the wrong signature: the grader calls {fn.signature()} with keyword "
                       f"arguments, but yours is {event.get('found')} ({event.get('error')})")
        elif status == "not_implemented":
            out.append(f"{fn.name} is not written yet (it raises NotImplementedError)")
        elif status == "raised":
            out.append(describe_error(lab, fn.name, event.get("error") or {}))
    for what in run.violations():
        out.append(f"the sandbox refused: your code tried to {what}")
    forged = getattr(run, "forged", 0)
    if forged:
        lines = "line" if forged == 1 else "lines"
        out.append(f"your code wrote {forged} {lines} of its own to the grader's event channel; they were "
                   "ignored: what your process reports only explains problems, points come from the AWS state "
                   "the checks read")
    if any(e.get("event") == "memory" for e in run.events):
        out.append(f"your code ran out of memory (limit {memory_mb} MiB) and was stopped")
    finished = any(e.get("event") == "done" for e in run.events)
    if run.timed_out:
        started = run.started()
        during = f" while running {started[-1]}" if started else ""
        out.append(f"your code did not finish within {timeout:g} s{during} and was stopped: look for a loop "
                   "that never ends or a waiter without a time limit. Functions after it were not called.")
    elif not finished and not (imported and imported.get("status") in ("syntax", "raised", "exit")):
        out.append(_early_exit(run))
    return out


def _early_exit(run: LearnerRun) -> str:
    started = run.started()
    stage = f"while running {started[-1]}" if started else "while your file was being imported"
    code = run.exit_code
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        cause = " (most likely the memory limit)" if name == "SIGKILL" else ""
        return f"the learner process crashed {stage}: killed by {name}{cause}. Later functions were not called."
    return (f"the learner process ended early {stage} (exit code {code}): something called sys.exit() or "
            "os._exit(). Later functions were not called.")
