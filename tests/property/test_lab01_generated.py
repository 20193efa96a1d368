"""Lab 01 (CloudWatch alarms on a SageMaker endpoint): generated solutions that AWS treats like the reference
earn full marks; generated single changes of behaviour lose the points of the checks they break. The rewrites and
mutations are the lab's own data (``labs/01_*/rewrites.py``)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlalab.catalog import find_lab
from tests.property import generated_settings
from tests.property.helpers import (
    Variant,
    assert_edits_apply,
    assert_equivalent_batch,
    assert_mutation_batch,
    equivalent_batches,
    lab_rewrites,
    mutation_batches,
    rewrite_lists,
)

LAB = find_lab(1)
REWRITES, MUTATIONS = lab_rewrites(LAB).REWRITES, lab_rewrites(LAB).MUTATIONS
SEEDS = st.integers(min_value=1, max_value=10**6)  # resource names change with the seed


@pytest.mark.parametrize("edit", REWRITES + MUTATIONS, ids=lambda r: r.name)
def test_each_edit_changes_the_reference(edit):
    reference = LAB.solution_path.read_text()
    variant = Variant((), edit) if edit in MUTATIONS else Variant((edit,))
    assert variant.source(reference) != reference, f"{edit.name} no longer finds its anchor in solution.py"


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(MUTATIONS), rewrite_lists(REWRITES))
def test_rewrites_compose_and_keep_mutations(mutation, rewrites):
    assert_edits_apply(LAB, Variant(tuple(rewrites), mutation))


@generated_settings()
@given(equivalent_batches(REWRITES), SEEDS)
def test_equivalent_rewrites_earn_full_marks(tmp_path_factory, variants, seed):
    assert_equivalent_batch(tmp_path_factory, LAB, variants, seed)


@generated_settings()
@given(mutation_batches(REWRITES, MUTATIONS), SEEDS)
def test_mutations_lose_the_right_points(tmp_path_factory, variants, seed):
    assert_mutation_batch(tmp_path_factory, LAB, variants, seed)
