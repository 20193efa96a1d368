"""The contract every lab keeps, checked for each lab in the catalogue (a new lab is covered as soon
as it exists): the reference earns full marks, the untouched starter earns nothing, and each check
is caught by a wrong solution that fails that check and no other.

Each lab's wrong solutions (``MUTATIONS``: check id -> text edits to the reference) live in its own
``tests/labs/test_labNN.py``, beside the tests specific to that lab.
"""


import pytest

from mlalab.catalog import lab_module, load_labs
from tests.conftest import apply, failing, grade_source

LABS = load_labs()


def mutations(lab) -> dict[str, list[tuple[str, str]]]:
    return lab_module(lab.path, "mutations").MUTATIONS


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.slug)
def test_every_check_has_a_wrong_solution(lab):
    assert set(mutations(lab)) == {c.id for c in lab.checks}


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.slug)
def test_reference_earns_full_marks(tmp_path, lab):
    result = grade_source(tmp_path, lab, lab.solution_path.read_text())
    assert failing(result) == set(), [c.message for c in result.checks if c.status != "pass"]
    assert result.score == result.max_score == lab.max_score
    assert result.problems == []


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.slug)
def test_untouched_starter_earns_nothing(tmp_path, lab):
    result = grade_source(tmp_path, lab, lab.starter_text())
    assert result.score == 0
    assert failing(result) == {c.id for c in lab.checks}
    assert all(c.status == "fail" for c in result.checks)  # failed, never a grader error
    assert result.problems == [f"{f.name} is not written yet (it raises NotImplementedError)" for f in lab.functions]


@pytest.mark.parametrize("lab, check_id", [(lab, c.id) for lab in LABS for c in lab.checks],
                         ids=lambda value: getattr(value, "number", value))
def test_wrong_solution_fails_exactly_its_check(tmp_path, lab, check_id):
    result = grade_source(tmp_path, lab, apply(lab.solution_path.read_text(), mutations(lab)[check_id]))
    assert failing(result) == {check_id}
