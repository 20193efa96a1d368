"""The contract every lab keeps, checked for each lab in the catalogue (a new lab is covered as soon
as it exists): the reference earns full marks, the untouched starter earns nothing, and each check
is caught by a wrong solution that fails that check and no other.

A lab's wrong solutions live in its own folder (``mutations.py``: check id -> text edits to the
reference). All of a lab's solutions are graded in one grading session (one server, one pytest
start-up, each solution still in its own sandbox against a fresh AWS), once per test run.
"""

from __future__ import annotations

import pytest

from mlalab.catalog import Lab, lab_module, load_labs
from mlalab.results import LabResult
from tests.conftest import apply, failing, grade_sources

LABS = load_labs()
REFERENCE, STARTER = "reference", "starter"


def mutations(lab: Lab) -> dict[str, list[tuple[str, str]]]:
    return lab_module(lab.path, "mutations").MUTATIONS


@pytest.fixture(scope="session")
def contract_results(tmp_path_factory: pytest.TempPathFactory):
    """lab id -> {"reference" | "starter" | check id: LabResult}, graded on first use per lab."""
    cache: dict[int, dict[str, LabResult]] = {}

    def results(lab: Lab) -> dict[str, LabResult]:
        if lab.id not in cache:
            reference = lab.solution_path.read_text()
            sources = {REFERENCE: reference, STARTER: lab.starter_text()}
            sources |= {check_id: apply(reference, edits) for check_id, edits in mutations(lab).items()}
            graded = grade_sources(tmp_path_factory.mktemp(f"contract-{lab.number}"), lab, list(sources.values()))
            cache[lab.id] = dict(zip(sources, graded, strict=True))
        return cache[lab.id]

    return results


def by_lab(lab: Lab) -> pytest.MarkDecorator:
    return pytest.mark.xdist_group(lab.slug)  # one worker grades one lab's batch


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.slug)
def test_every_check_has_a_wrong_solution(lab):
    assert set(mutations(lab)) == {c.id for c in lab.checks}


@pytest.mark.parametrize("lab", [pytest.param(lab, marks=by_lab(lab)) for lab in LABS], ids=lambda lab: lab.slug)
def test_reference_earns_full_marks(contract_results, lab):
    result = contract_results(lab)[REFERENCE]
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]
    assert result.score == result.max_score == lab.max_score
    assert result.problems == []


@pytest.mark.parametrize("lab", [pytest.param(lab, marks=by_lab(lab)) for lab in LABS], ids=lambda lab: lab.slug)
def test_untouched_starter_earns_nothing(contract_results, lab):
    result = contract_results(lab)[STARTER]
    assert result.score == 0
    assert failing(result) == {c.id for c in lab.checks}
    assert all(c.status == "fail" for c in result.checks)  # failed, never a grader error
    assert result.problems == [f"{f.name} is not written yet (it raises NotImplementedError)" for f in lab.functions]


@pytest.mark.parametrize("lab, check_id", [pytest.param(lab, c.id, marks=by_lab(lab)) for lab in LABS
                                           for c in lab.checks],
                         ids=lambda value: getattr(value, "number", value))
def test_wrong_solution_fails_exactly_its_check(contract_results, lab, check_id):
    result = contract_results(lab)[check_id]
    assert failing(result) == {check_id}, [(c.id, c.message) for c in result.checks if c.status != "pass"]
