"""Every results format the trusted grader writes, by name.

Each renderer is a pure function of a :class:`~mlalab.results.SubmissionResult`, called by the
grader after the learner's process has exited, with the run's ``nonce`` (and optional ``key``) that
the learner's process never saw; see :mod:`mlalab.formats.integrity`. The terminal "text" format
lives in :mod:`mlalab.report` and is added to :data:`FORMATS` by its owner.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlalab.formats import github, gradescope, json_format, junit
from mlalab.results import SubmissionResult

Renderer = Callable[..., str]  # render(result, *, nonce: str, key: bytes | None = None) -> str

FORMATS: dict[str, Renderer] = {
    "json": json_format.render,
    "junit": junit.render,
    "gradescope": gradescope.render,
    "github": github.render,
}


def write(
    result: SubmissionResult, fmt: str, out_path: Path | str | None, nonce: str, key: bytes | None = None
) -> str:
    """Render ``result`` as ``fmt``; write it to ``out_path`` when given, and return the text either way.

    The file is written as UTF-8 with newlines untouched, because the signature covers the exact text.
    """
    try:
        render = FORMATS[fmt]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown results format {fmt!r}; choose one of {known}") from None
    text = render(result, nonce=nonce, key=key)
    if out_path is not None:
        path = Path(out_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    return text
