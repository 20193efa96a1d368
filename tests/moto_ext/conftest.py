"""What the wire tests share: one lab server per test module (the grader's own, every extension
installed), reset by each module's ``client`` fixture before a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlalab.server import LabServer


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    with LabServer() as lab_server:
        yield lab_server
