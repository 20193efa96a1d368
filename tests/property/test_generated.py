"""Every lab with a ``rewrites.py``: generated solutions that AWS treats like the reference earn full
marks; generated single changes of behaviour lose the points of the checks they break. The rewrites
and mutations are each lab's own data, so a new lab is covered as soon as its folder has them."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlalab.catalog import load_labs
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

LABS = [lab for lab in load_labs() if (lab.path / "rewrites.py").is_file()]
SEEDS = st.integers(min_value=1, max_value=10**6)  # resource names (and e.g. lab 02's prefix) change with the seed
EDITS = [(lab, edit) for lab in LABS for edit in (*lab_rewrites(lab).REWRITES, *lab_rewrites(lab).MUTATIONS)]


def by_lab(lab) -> pytest.MarkDecorator:
    return pytest.mark.xdist_group(f"generated-{lab.slug}")


@pytest.mark.parametrize("lab, edit", EDITS, ids=lambda v: getattr(v, "name", None) or getattr(v, "slug", None))
def test_each_edit_changes_the_reference(lab, edit):
    reference = lab.solution_path.read_text()
    variant = Variant((), edit) if edit in lab_rewrites(lab).MUTATIONS else Variant((edit,))
    assert variant.source(reference) != reference, f"{edit.name} no longer finds its anchor in solution.py"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.slug)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_rewrites_compose_and_keep_mutations(lab, data):
    edits = lab_rewrites(lab)
    mutation = data.draw(st.sampled_from(edits.MUTATIONS), label="mutation")
    rewrites = data.draw(rewrite_lists(edits.REWRITES), label="rewrites")
    assert_edits_apply(lab, Variant(tuple(rewrites), mutation))


@pytest.mark.parametrize("lab", [pytest.param(lab, marks=by_lab(lab)) for lab in LABS], ids=lambda lab: lab.slug)
@generated_settings()
@given(data=st.data(), seed=SEEDS)
def test_equivalent_rewrites_earn_full_marks(tmp_path_factory, lab, data, seed):
    variants = data.draw(equivalent_batches(lab_rewrites(lab).REWRITES), label="variants")
    assert_equivalent_batch(tmp_path_factory, lab, variants, seed)


@pytest.mark.parametrize("lab", [pytest.param(lab, marks=by_lab(lab)) for lab in LABS], ids=lambda lab: lab.slug)
@generated_settings()
@given(data=st.data(), seed=SEEDS)
def test_mutations_lose_the_right_points(tmp_path_factory, lab, data, seed):
    edits = lab_rewrites(lab)
    variants = data.draw(mutation_batches(edits.REWRITES, edits.MUTATIONS), label="variants")
    assert_mutation_batch(tmp_path_factory, lab, variants, seed)
