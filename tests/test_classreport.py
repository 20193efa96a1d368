"""The instructors' CSV and HTML class report, from a small class with hostile learner names."""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

from mlalab import classreport
from mlalab.results import CheckResult, LabResult, SubmissionResult

BOB = "bob<script>alert(1)</script>"
MALLORY = '=HYPERLINK("http://x")<img src=x onerror=alert(2)>'
LAB1 = [("latency-alarm", "Latency alarm", 2.0), ("error-alarm", "5xx alarm", 2.0), ("sns-topic", "SNS", 1.0)]
LAB2 = [("baseline-job", "Baseline job", 2.0), ("monitor-schedule", "Monitoring schedule", 2.0)]
CHECKS = {1: ("01_endpoint_alarms", "Endpoint alarms", LAB1), 2: ("02_drift", "Drift <monitor>", LAB2)}


def lab(number: int, passed: set[str]) -> LabResult:
    """A graded lab in which the named checks passed and the others failed."""
    slug, title, spec = CHECKS[number]
    checks = [CheckResult(cid, name, "pass" if cid in passed else "fail", pts if cid in passed else 0.0, pts,
                          "", "4.2") for cid, name, pts in spec]
    status = "pass" if all(c.status == "pass" for c in checks) else "fail"
    max_score = sum(s[2] for s in spec)
    return LabResult(number, slug, title, "4.2", status, sum(c.points for c in checks), max_score, checks)


def ungraded_lab(number: int) -> LabResult:
    slug, title, spec = CHECKS[number]
    max_score = sum(s[2] for s in spec)
    return LabResult(number, slug, title, "4.2", "error", 0.0, max_score, [], problems=["timed out"])


def missing_lab(number: int) -> LabResult:
    """A lab whose labNN.py was not in the submission, as the grader reports it: every check failed."""
    result = lab(number, set())
    result.problems = [f"lab{number:02d}.py was not found in the submission: run `mlalab start {number}` to "
                       "create it from the starter"]
    return result


def submission(name: str, labs: list[LabResult]) -> SubmissionResult:
    status = "error" if not labs else "pass" if all(x.status == "pass" for x in labs) else "fail"
    return SubmissionResult(name, status, sum(x.score for x in labs), 9.0, labs,
                            error=None if labs else "no lab folders")


def class_results() -> list[SubmissionResult]:
    """alice 5/5 + 2/4, bob 3/5 + ungraded lab 2, mallory 0/5 and no lab 2, carol not gradable,
    dan never submitted lab 1 (no lab01.py) + 4/4."""
    return [
        submission("alice", [lab(1, {cid for cid, _, _ in LAB1}), lab(2, {"baseline-job"})]),
        submission(BOB, [lab(1, {"latency-alarm", "sns-topic"}), ungraded_lab(2)]),
        submission(MALLORY, [lab(1, set())]),
        submission("carol", []),
        submission("dan", [missing_lab(1), lab(2, {cid for cid, _, _ in LAB2})]),
    ]


def test_csv_rows_exact(tmp_path: Path) -> None:
    path = classreport.write_csv(class_results(), tmp_path / "out" / "class.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["learner", "lab", "score", "max_score", "status"],
        ["alice", "1", "5", "5", "pass"],
        ["alice", "2", "2", "4", "fail"],
        [BOB, "1", "3", "5", "fail"],
        [BOB, "2", "0", "4", "error"],
        ["'" + MALLORY, "1", "0", "5", "fail"],  # a leading "=" would run as a spreadsheet formula
        ["'" + MALLORY, "2", "0", "4", "error"],  # no result for the lab: 0 points, error
        ["carol", "1", "0", "5", "error"],
        ["carol", "2", "0", "4", "error"],
        ["dan", "1", "0", "5", "missing"],  # no lab01.py: not a failed lab
        ["dan", "2", "4", "4", "pass"],
    ]


def test_missing_labs_from_the_graders_problems_or_from_the_caller() -> None:
    results = class_results()
    assert classreport.missing_labs(results) == {"alice": set(), BOB: set(), MALLORY: set(), "carol": set(),
                                                 "dan": {1}}
    # grade-many knows from the submission folders; what it passes wins over the problems.
    rows = classreport.csv_rows(results, missing={"alice": {2}})
    assert ["alice", "2", "0", "4", "missing"] in rows and ["dan", "1", "0", "5", "fail"] in rows


def test_pass_rates_lowest_first() -> None:
    rates = classreport.check_pass_rates(class_results())
    # dan never submitted lab 1: not in lab 1's denominators (3, not 4), in lab 2's (3).
    assert [(r.check_id, r.passed, r.graded) for r in rates] == [
        ("error-alarm", 1, 3),
        ("monitor-schedule", 1, 3),
        ("latency-alarm", 2, 3),
        ("sns-topic", 2, 3),
        ("baseline-job", 2, 3),
    ]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def test_html_numbers_and_escaping(tmp_path: Path) -> None:
    path = classreport.write_html(class_results(), tmp_path / "class.html", title="MLA <b>cohort</b>")
    page = path.read_text(encoding="utf-8")
    assert "5 submissions" in page and "2 labs" in page and "mean score 2.8" in page
    assert "<title>MLA &lt;b&gt;cohort&lt;/b&gt;</title>" in page
    # Matrix cells and totals: mean 2/5 on lab 1 (4 learners, dan's missing lab counts 0 points, as in
    # the gradebook), 2/4 on lab 2 (3 learners).
    assert '<td class="num pass" title="pass">5/5</td>' in page
    assert '<td class="num part" title="fail">3/5</td>' in page
    assert '<td class="num error" title="error">0/4</td>' in page
    assert '<td class="num error" title="not graded">—</td>' in page  # mallory has no result for lab 2
    dan = re.search(r'<tr data-learner="dan">.*?</tr>', page).group(0)
    assert '<td class="num missing" title="not submitted">—</td><td class="num pass" title="pass">4/4</td>' in dan
    assert '<span class="missing">not submitted</span>' in page  # its own legend colour
    assert "<td>2/5</td><td>2/4</td><td>2.8/9</td>" in page
    # Labs passed per lab (dan's missing lab 1 is not in the denominator), and submissions passed.
    assert "<td>1/3</td><td>1/3</td><td>0/5</td>" in page
    # Bars: lowest pass rate first, labelled with name, lab, percentage and learners passing.
    bars = re.findall(r'data-check="([^"]+)"', page)
    assert bars == ["error-alarm", "monitor-schedule", "latency-alarm", "sns-topic", "baseline-job"]
    assert "Monitoring schedule (Lab 2)</text>" in page and ">33% (1/3)</text>" in page
    assert ">67% (2/3)</text>" in page and "(2/4)" not in page and "(1/4)" not in page
    assert 'width="200.0"' in page and 'width="400.0"' in page  # bar lengths follow the rates
    # Learner-chosen names are text, never markup; the only script is the report's own.
    assert BOB not in page and "bob&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    parser = _Tags()
    parser.feed(page)
    assert parser.tags.count("script") == 1 and "img" not in parser.tags
    assert parser.urls == [] and "url(" not in page and "@import" not in page
    assert "://" not in page.replace("HYPERLINK(&quot;http://x&quot;)", "")  # nothing to fetch
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_html_empty_class(tmp_path: Path) -> None:
    page = classreport.write_html([], tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "0 submissions" in page and "No checks were graded." in page
