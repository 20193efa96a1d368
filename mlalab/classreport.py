"""Batch outputs for instructors: a CSV for the gradebook and one self-contained HTML class report.

The HTML report is a single file an instructor can e-mail or open offline: inline CSS, a few lines of
inline JavaScript (a learner filter) and inline SVG, nothing fetched from the network. Learner names
are folder names chosen by learners, so every string is HTML-escaped, and a Content-Security-Policy
allows only this file's own style and script (by hash): even a missed escape could not run code.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from mlalab.formats.json_format import number
from mlalab.results import LabResult, SubmissionResult

CSV_COLUMNS = ("learner", "lab", "score", "max_score", "status")
DEFAULT_TITLE = "mla-labs class report"
MISSING = "missing"  # the status of a lab the learner never submitted (no labNN.py), in grades.csv
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NOT_FOUND = " was not found in the submission"  # how the grader words a missing labNN.py (mlalab.feedback)

# learner (SubmissionResult.submission) -> numbers of the labs whose labNN.py was not in the submission
Missing = Mapping[str, Collection[int]]


@dataclass(frozen=True)
class LabColumn:
    """A lab as a column of the class matrix."""

    lab: int
    slug: str
    title: str
    max_score: float


@dataclass(frozen=True)
class CheckRate:
    """How many learners who were graded on a check's lab passed the check."""

    lab: int
    check_id: str
    name: str
    passed: int
    graded: int

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


def lab_columns(results: list[SubmissionResult]) -> list[LabColumn]:
    """Every lab any submission was graded on, in lab order (first title and largest max seen)."""
    columns: dict[int, LabColumn] = {}
    for result in results:
        for lab in result.labs:
            known = columns.get(lab.lab)
            if known is None or lab.max_score > known.max_score:
                title = known.title if known else lab.title
                columns[lab.lab] = LabColumn(lab.lab, lab.slug, title, lab.max_score)
    return [columns[n] for n in sorted(columns)]


def _labs_by_number(result: SubmissionResult) -> dict[int, LabResult]:
    return {lab.lab: lab for lab in result.labs}


def not_submitted(lab: LabResult) -> bool:
    """Whether the grader reported the lab's ``labNN.py`` as not found in the submission."""
    prefix = f"lab{lab.lab:02d}.py{_NOT_FOUND}"
    return any(problem.startswith(prefix) for problem in lab.problems)


def missing_labs(results: list[SubmissionResult]) -> dict[str, set[int]]:
    """The labs each learner never submitted, read from the grader's problems.

    ``mlalab grade-many`` knows it better (from the files in each submission folder, even when a
    grader process died) and passes its own ``missing`` to the functions below.
    """
    return {result.submission: {lab.lab for lab in result.labs if not_submitted(lab)} for result in results}


def _missing(results: list[SubmissionResult], missing: Missing | None) -> Missing:
    return missing_labs(results) if missing is None else missing


def _is_missing(missing: Missing, result: SubmissionResult, lab: int) -> bool:
    return lab in missing.get(result.submission, ())


def _spreadsheet_safe(text: str) -> str:
    """Keep a learner-chosen name from being run as a formula when the CSV is opened in a spreadsheet."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(results: list[SubmissionResult], missing: Missing | None = None) -> list[list[str]]:
    """One row per learner per lab; a lab a learner has no result for counts as 0 points, ``error``;
    a lab the learner never submitted (no ``labNN.py``) as 0 points, ``missing``."""
    missing = _missing(results, missing)
    rows = []
    for result in results:
        graded = _labs_by_number(result)
        for column in lab_columns(results):
            lab = graded.get(column.lab)
            score, max_score, status = (
                (lab.score, lab.max_score, lab.status) if lab else (0.0, column.max_score, "error")
            )
            if _is_missing(missing, result, column.lab):
                score, status = 0.0, MISSING
            rows.append([_spreadsheet_safe(result.submission), str(column.lab), number(score),
                         number(max_score), status])
    return rows


def write_csv(results: list[SubmissionResult], path: Path | str, missing: Missing | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(results, missing))
    return path


def check_pass_rates(results: list[SubmissionResult], missing: Missing | None = None) -> list[CheckRate]:
    """Pass rate of every check, lowest first, so the concept the room missed is on top.

    The denominator is the learners graded on the check's lab, including those whose lab could not
    be graded at all (they did not pass it either), but not those who never submitted the lab: a
    missing file says nothing about the concept.
    """
    missing = _missing(results, missing)
    graded: dict[int, int] = {}
    passed: dict[tuple[int, str], int] = {}
    names: dict[tuple[int, str], str] = {}  # first-seen order: ties keep the lab's own check order
    for result in results:
        for lab in result.labs:
            if _is_missing(missing, result, lab.lab):
                continue
            graded[lab.lab] = graded.get(lab.lab, 0) + 1
            for check in lab.checks:
                key = (lab.lab, check.id)
                names.setdefault(key, check.name)
                passed[key] = passed.get(key, 0) + (check.status == "pass")
    rates = [CheckRate(lab, check_id, name, passed[(lab, check_id)], graded.get(lab, 0))
             for (lab, check_id), name in names.items()]
    order = {key: i for i, key in enumerate(names)}
    return sorted(rates, key=lambda r: (r.rate, r.lab, order[(r.lab, r.check_id)]))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _score_class(status: str, score: float, max_score: float) -> str:
    """Cell colour: all points, half or more, under half, or could not be graded."""
    if status in ("pass", "error"):
        return status
    return "part" if max_score and score / max_score >= 0.5 else "low"


def _rate_class(rate: float) -> str:
    return "low" if rate < 0.5 else "part" if rate < 0.8 else "pass"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1f2328}
h1{margin-bottom:.2rem}.meta{color:#59636e;margin-top:0}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d1d9e0;padding:.35rem .6rem}
th{background:#f6f8fa;text-align:left;vertical-align:bottom}th small{font-weight:normal;color:#59636e}
td.num,tfoot td{text-align:right;font-variant-numeric:tabular-nums}
td.pass{background:#dafbe1}td.part{background:#fff8c5}td.low{background:#ffebe9}
td.error{background:#eaeef2;color:#59636e}td.missing{background:#ddf4ff;color:#59636e}
tfoot td{font-weight:600;background:#f6f8fa}
rect.track{fill:#eaeef2}rect.pass{fill:#1a7f37}rect.part{fill:#bf8700}rect.low{fill:#cf222e}
text.label{font-size:13px;fill:#1f2328}text.rate{font-size:12px;fill:#59636e}
.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.4rem;border:1px solid #d1d9e0}
.legend .pass{background:#dafbe1}.legend .part{background:#fff8c5}.legend .low{background:#ffebe9}
.legend .error{background:#eaeef2}.legend .missing{background:#ddf4ff}
"""

_JS = """
(function () {
  var input = document.getElementById("filter");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody tr"));
  var shown = document.getElementById("shown");
  function apply() {
    var needle = input.value.trim().toLowerCase();
    var count = 0;
    rows.forEach(function (row) {
      var match = row.getAttribute("data-learner").toLowerCase().indexOf(needle) !== -1;
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " learners shown";
  }
  input.addEventListener("input", apply);
  apply();
})();
"""


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _cell(result: SubmissionResult, lab: LabResult | None, missing: Missing, column: LabColumn) -> str:
    if _is_missing(missing, result, column.lab):
        return '<td class="num missing" title="not submitted">—</td>'
    if lab is None:  # no result at all for this lab: 0 points, "error" in the CSV
        return '<td class="num error" title="not graded">—</td>'
    css = _score_class(lab.status, lab.score, lab.max_score)
    return f'<td class="num {css}" title="{lab.status}">{number(lab.score)}/{number(lab.max_score)}</td>'


def _matrix(results: list[SubmissionResult], columns: list[LabColumn], missing: Missing) -> list[str]:
    """Learners by labs. The "Mean score" row counts a missing lab as 0 points, as the gradebook does;
    the "Labs passed" row counts only the learners who submitted the lab."""
    esc = html.escape
    head = "".join(f"<th>Lab {c.lab}<br><small>{esc(c.title)}</small></th>" for c in columns)
    out = ['<table id="matrix">', f"<thead><tr><th>Learner</th>{head}<th>Total</th></tr></thead>", "<tbody>"]
    for result in results:
        graded = _labs_by_number(result)
        cells = [_cell(result, graded.get(column.lab), missing, column) for column in columns]
        total = f"{number(result.score)}/{number(result.max_score)}"
        css = _score_class(result.status, result.score, result.max_score)
        name = esc(result.submission)
        out.append(f'<tr data-learner="{name}"><th scope="row">{name}</th>'
                   f'{"".join(cells)}<td class="num {css}">{total}</td></tr>')
    out.append("</tbody>")
    means, passes = [], []
    for column in columns:
        labs = [lab for r in results if (lab := _labs_by_number(r).get(column.lab))]
        submitted = [lab for r in results if (lab := _labs_by_number(r).get(column.lab))
                     and not _is_missing(missing, r, column.lab)]
        means.append(f"<td>{number(_mean([lab.score for lab in labs]))}/{number(column.max_score)}</td>")
        passes.append(f"<td>{sum(lab.status == 'pass' for lab in submitted)}/{len(submitted)}</td>")
    mean_total = number(_mean([r.score for r in results]))
    max_total = number(max((r.max_score for r in results), default=0.0))
    out.append(f'<tfoot><tr><th scope="row">Mean score</th>{"".join(means)}'
               f"<td>{mean_total}/{max_total}</td></tr>")
    out.append(f'<tr><th scope="row">Labs passed</th>{"".join(passes)}'
               f'<td>{sum(r.status == "pass" for r in results)}/{len(results)}</td></tr></tfoot>')
    out.append("</table>")
    return out


def _chart(rates: list[CheckRate]) -> list[str]:
    """Horizontal bars in inline SVG: no script needed, prints and scales like text."""
    if not rates:
        return ["<p>No checks were graded.</p>"]
    width, bar_width, row_height = 760, 600, 42
    out = [f'<svg id="pass-rates" role="img" '
           f'aria-labelledby="chart-title" width="{width}" height="{len(rates) * row_height}" '
           f'viewBox="0 0 {width} {len(rates) * row_height}">']
    for i, rate in enumerate(rates):
        y = i * row_height
        percent = round(rate.rate * 100)
        label = f"{rate.name} (Lab {rate.lab})"
        out.append(
            f'<g class="bar" data-check="{html.escape(rate.check_id)}">'
            f"<title>{html.escape(rate.check_id)}: {rate.passed} of {rate.graded} learners passed</title>"
            f'<text class="label" x="0" y="{y + 14}">{html.escape(label)}</text>'
            f'<rect class="track" x="0" y="{y + 20}" width="{bar_width}" height="14"/>'
            f'<rect class="{_rate_class(rate.rate)}" x="0" y="{y + 20}" '
            f'width="{round(bar_width * rate.rate, 1)}" height="14"/>'
            f'<text class="rate" x="{bar_width + 8}" y="{y + 32}">'
            f"{percent}% ({rate.passed}/{rate.graded})</text>"
            "</g>"
        )
    out.append("</svg>")
    return out


def _isolations(results: list[SubmissionResult]) -> str:
    """What isolated the learners' code (docs/security.md): a class graded practice-grade shows it."""
    return ", ".join(sorted({lab.isolation or "unknown" for r in results for lab in r.labs})) or "none"


def render_html(results: list[SubmissionResult], title: str = DEFAULT_TITLE, missing: Missing | None = None) -> str:
    """The whole report as one HTML document."""
    missing = _missing(results, missing)
    columns = lab_columns(results)
    count = len(results)
    csp = f"default-src 'none'; style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta"><span id="submissions">{count} submission{"" if count == 1 else "s"}</span>'
        f" · {len(columns)} lab{'' if len(columns) == 1 else 's'}"
        f" · mean score {number(_mean([r.score for r in results]))}"
        f' · isolation <span id="isolation">{html.escape(_isolations(results))}</span></p>',
        "<h2>Learners by lab</h2>",
        '<p><label>Filter learners <input id="filter" type="search" autocomplete="off"></label> '
        f'<span id="shown">{count} learners</span></p>',
        '<p class="legend"><span class="pass">all points</span><span class="part">half or more</span>'
        '<span class="low">under half</span><span class="error">could not be graded</span>'
        '<span class="missing">not submitted</span></p>',
        *_matrix(results, columns, missing),
        '<h2 id="chart-title">Pass rate per check, lowest first</h2>',
        *_chart(check_pass_rates(results, missing)),
        f"<script>{_JS}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(results: list[SubmissionResult], path: Path | str, title: str = DEFAULT_TITLE,
               missing: Missing | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(results, title, missing), encoding="utf-8")
    return path
