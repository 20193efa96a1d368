"""Every results format the trusted grader writes, by name.

Each renderer is a pure function of a :class:`~mlalab.results.SubmissionResult`, called by the
grader after the learner's process has exited, with the run's ``nonce`` (and optional ``key``) that
the learner's process never saw; see :mod:`mlalab.formats.integrity`. The terminal "text" format
lives in :mod:`mlalab.report` and is added to :data:`FORMATS` by its owner.

The writer modules are imported on first use, not when this package is imported: the GitHub
workflow runs ``python -m mlalab.formats.github``, and a package that imported ``github`` eagerly
would make Python warn that the module was already in ``sys.modules`` before it ran as ``__main__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path

from mlalab.results import SubmissionResult

Renderer = Callable[..., str]  # render(result, *, nonce: str, key: bytes | None = None) -> str

# name -> the module (in this package) whose ``render`` writes it
_BUILT_IN = {"json": "json_format", "junit": "junit", "gradescope": "gradescope", "github": "github"}


class LazyFormats(MutableMapping[str, Renderer]):
    """``{name: render}`` whose built-in renderers are imported the first time they are looked up."""

    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = dict(modules)  # not imported yet
        self._renderers: dict[str, Renderer] = {}

    def __getitem__(self, name: str) -> Renderer:
        if name not in self._renderers:
            module = self._modules[name]  # KeyError for an unknown format, like a dict
            self._renderers[name] = importlib.import_module(f"{__name__}.{module}").render
            del self._modules[name]
        return self._renderers[name]

    def __setitem__(self, name: str, render: Renderer) -> None:
        self._modules.pop(name, None)
        self._renderers[name] = render

    def __delitem__(self, name: str) -> None:
        if name in self._renderers:
            del self._renderers[name]
        else:
            del self._modules[name]

    def __iter__(self) -> Iterator[str]:
        yield from list(self._renderers)
        yield from [name for name in self._modules if name not in self._renderers]

    def __len__(self) -> int:
        return len(self._renderers) + sum(name not in self._renderers for name in self._modules)

    def __contains__(self, name: object) -> bool:
        return name in self._renderers or name in self._modules

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self)})"


FORMATS: MutableMapping[str, Renderer] = LazyFormats(_BUILT_IN)


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
