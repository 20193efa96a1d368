"""The class report opened in a real headless Chromium: it loads, its script runs, nothing complains.

Chromium's ``--dump-dom`` prints the DOM after the page's scripts ran, and ``--enable-logging=stderr``
logs every console message (``console.*``, uncaught exceptions, Content-Security-Policy refusals) as a
``CONSOLE`` line, whatever its level; the report logs nothing, so any such line is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from mlalab import classreport
from tests.test_classreport import BOB, class_results

CHROMIUM = Path("/usr/bin/chromium")
# "INFO:CONSOLE:12]" in current Chromium, "INFO:CONSOLE(12)]" in older builds.
CONSOLE_LINE = re.compile(r":CONSOLE(?::\d+|\(\d+\))\]")


@pytest.fixture(scope="module")
def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {CHROMIUM} is missing: .ci/run must apt-get install chromium")
    pytest.skip(f"needs a headless browser at {CHROMIUM} (apt-get install chromium); CI installs it")


def open_page(chromium: Path, page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after scripts ran, and the console messages the page produced."""
    command = [
        str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        "--dump-dom", page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    console = [line for line in done.stderr.splitlines() if CONSOLE_LINE.search(line) or "Uncaught" in line]
    return done.stdout, console


def test_console_detection_catches_a_broken_page(chromium: Path, tmp_path: Path) -> None:
    """Proves the check below can fail: errors and CSP refusals on a page are seen."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><p id='p'>before</p>"
        "<script>document.getElementById('p').textContent = 'script ran'; console.error('boom');"
        " notDefined();</script></body></html>"
    )
    dom, console = open_page(chromium, page, tmp_path / "profile-broken")
    assert "script ran" in dom
    assert any('"boom"' in line for line in console), console
    assert any("Uncaught ReferenceError: notDefined is not defined" in line for line in console), console


def test_class_report_opens_cleanly(chromium: Path, tmp_path: Path) -> None:
    page = classreport.write_html(class_results(), tmp_path / "class.html")
    dom, console = open_page(chromium, page, tmp_path / "profile")
    assert console == [], console  # no script error, and the CSP hashes match the inline style and script
    assert "5 of 5 learners shown" in dom  # written by the report's script, so it ran
    assert "5 submissions" in dom and "<td>2/5</td><td>2/4</td><td>2.8/9</td>" in dom
    assert ">33% (1/3)</text>" in dom and ">67% (2/3)</text>" in dom
    assert '<td class="num part" title="fail">3/5</td>' in dom
    assert '<td class="num missing" title="not submitted">—</td>' in dom
    assert BOB not in dom and "bob&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count("<script") == 1 and "<img" not in dom
