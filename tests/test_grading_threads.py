"""A grading session shares its process with threads that import modules (the background preload of
moto's backends) and serve requests: what they do meanwhile cannot stop the session."""

import logging

from mlalab.grading import grade


class _LoggersMadeMeanwhile(dict):
    """``logging``'s table of loggers, as another thread's import would change it: a logger is added
    while a reader walks the table without ``logging``'s lock (the race CI met, made deterministic).
    ``logging`` itself walks it holding the lock, which keeps other threads' ``getLogger`` out."""

    walks = 0

    def values(self):  # type: ignore[override]
        if logging._lock._is_owned():  # type: ignore[attr-defined]
            return super().values()
        return self._walk_while_a_logger_is_made()

    def _walk_while_a_logger_is_made(self):
        _LoggersMadeMeanwhile.walks += 1
        view = iter(super().values())
        first = next(view)
        self[f"mlalab.test.made-meanwhile.{self.walks}"] = logging.Logger("made meanwhile")
        yield first
        yield from view  # raises RuntimeError: dictionary changed size during iteration


def test_a_logger_made_by_another_thread_during_a_session_cannot_stop_it(lab01):
    manager = logging.root.manager
    before = manager.loggerDict
    # Not the monkeypatch fixture: the outer pytest walks the table itself as this test's teardown starts.
    manager.loggerDict = _LoggersMadeMeanwhile(before)
    try:
        result = grade(None, [lab01], seed=7)
    finally:
        manager.loggerDict = before
    assert result.score == result.max_score > 0
    assert _LoggersMadeMeanwhile.walks == 0  # nothing in a grading session walks the table unlocked
