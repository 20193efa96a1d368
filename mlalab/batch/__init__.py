"""``mlalab grade-many``: grade a whole class, in parallel, one grader process per submission.

Each submission is graded by its own ``python -m mlalab.cli grade`` process (at most ``jobs`` at a
time) with a wall-clock cap, so one submission's crash, hang or time-out never touches another: a
grader process that dies or overruns is killed with everything it started, and that submission is
recorded as ``error`` with the reason and 0 points while the batch carries on.

Integrity: every grader process gets a fresh per-batch signing key in its environment (the grader
never passes its environment to learner code, see :func:`mlalab.sandbox.child_environment`),
and its document is accepted only if the signature verifies with that key. The documents written
to ``--out/results/`` are re-signed by this process with a new nonce and the instructor's key.

One module per job: ``submissions`` (finding them), ``worker`` (one grader process, its cap and its
kill), ``documents`` (reading its signed results back), ``reports`` (grades.csv, report.html,
results/), ``grade_many`` (the batch, in parallel).
"""

from mlalab.batch.documents import error_result, read_document
from mlalab.batch.grade_many import BatchOutcome, run
from mlalab.batch.reports import results_file_name, summary_line
from mlalab.batch.submissions import BatchInputError, Submission, discover, not_submitted
from mlalab.batch.worker import Options, default_jobs, grade_one, kill_tree

__all__ = ["BatchInputError", "BatchOutcome", "Options", "Submission", "default_jobs", "discover", "error_result",
           "grade_one", "kill_tree", "not_submitted", "read_document", "results_file_name", "run", "summary_line"]
