"""Building, grading and judging generated solutions (the lab's ``rewrites.py`` provides the edits)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from mlalab.catalog import Lab, lab_module
from mlalab.results import LabResult
from tests.conftest import failing, grade_sources
from tests.property.edits import Rewrite

COMBOS_PER_BATCH = 3  # equivalent rewrite combinations graded per Hypothesis example (with every mutation)


@dataclass(frozen=True)
class Variant:
    """The reference with an optional mutation (applied first), then rewrites in the drawn order."""

    rewrites: tuple[Rewrite, ...] = ()
    mutation: Rewrite | None = None

    def source(self, reference: str) -> str:
        source = self.mutation.apply(reference) if self.mutation else reference
        for rewrite in self.rewrites:
            source = rewrite.apply(source)
        compile(source, self.label(), "exec")  # a broken edit is this suite's bug, not a grader's
        return source

    def label(self) -> str:
        names = [r.name for r in self.rewrites]
        return (f"mutation {self.mutation.name} + " if self.mutation else "") + f"rewrites {names}"

    def _repr_pretty_(self, printer, cycle) -> None:  # how Hypothesis prints a failing example
        printer.text(self.label())


def lab_rewrites(lab: Lab):
    """The lab's ``rewrites.py`` (REWRITES and MUTATIONS)."""
    return lab_module(lab.path, "rewrites")


def rewrite_lists(rewrites: list[Rewrite], min_size: int = 0) -> st.SearchStrategy[list[Rewrite]]:
    """Distinct rewrites, applied in the drawn order."""
    return st.lists(st.sampled_from(rewrites), unique=True, min_size=min_size)


def equivalent_batches(rewrites: list[Rewrite]) -> st.SearchStrategy[list[Variant]]:
    """A batch of rewrite combinations; the batch as a whole applies at least as many rewrites as the
    lab has (Hypothesis' first, minimal example would otherwise be one rewrite per variant)."""
    combos = st.lists(rewrite_lists(rewrites, min_size=1), min_size=COMBOS_PER_BATCH, max_size=COMBOS_PER_BATCH)
    return combos.filter(lambda batch: sum(map(len, batch)) >= len(rewrites)).map(
        lambda batch: [Variant(tuple(combo)) for combo in batch])


def mutation_batches(rewrites: list[Rewrite], mutations: list[Rewrite]) -> st.SearchStrategy[list[Variant]]:
    """Every mutation once, each followed by its own drawn rewrites."""
    lists = st.tuples(*(rewrite_lists(rewrites) for _ in mutations))
    return lists.filter(lambda batch: sum(map(len, batch)) >= len(mutations)).map(
        lambda batch: [Variant(tuple(combo), mutation) for combo, mutation in zip(batch, mutations, strict=True)])


_GRADED: dict[tuple[int, int, str], LabResult] = {}


def grade_variants(tmp_path_factory, lab: Lab, variants: list[Variant], seed: int) -> list[LabResult]:
    """Grade every variant in one grading session (one moto server, one pytest start-up). Results are
    kept for the session: Hypothesis replays a failing example to report it, and the culprit search
    re-grades single rewrites, neither of which needs a second grading."""
    reference = lab.solution_path.read_text()
    sources = [v.source(reference) for v in variants]
    todo = list(dict.fromkeys(s for s in sources if (lab.id, seed, s) not in _GRADED))
    if todo:
        results = grade_sources(tmp_path_factory.mktemp(f"generated-lab{lab.number}"), lab, todo, seed=seed)
        _GRADED.update({(lab.id, seed, s): r for s, r in zip(todo, results, strict=True)})
    return [_GRADED[(lab.id, seed, s)] for s in sources]


def lost_points(result: LabResult) -> str:
    return "; ".join(f"{c.id} ({c.status}): {c.message.splitlines()[0][:300]}"
                     for c in result.checks if c.status != "pass")


def equivalence_failures(variants: list[Variant], results: list[LabResult]) -> list[str]:
    return [f"{v.label()} lost points: {lost_points(r)}" for v, r in zip(variants, results, strict=True)
            if r.score != r.max_score]


def mutation_failures(variants: list[Variant], results: list[LabResult]) -> list[str]:
    """Mutations whose expected checks did not all fail (or whose grading broke)."""
    problems = []
    for v, r in zip(variants, results, strict=True):
        kept = sorted(v.mutation.fails - failing(r))
        errors = [c.id for c in r.checks if c.status == "error"]
        if kept or errors:
            problems.append(f"{v.label()} ({v.mutation.why}) still passes {kept}"
                            + (f"; grading errors in {errors}" if errors else "")
                            + f"; it fails {sorted(failing(r))}")
    return problems


def culprits(tmp_path_factory, lab: Lab, variants: list[Variant], seed: int) -> list[str]:
    """For a failing batch only: which rewrites lose points on their own (an extra grading, on failure)."""
    names = {r.name: r for v in variants for r in v.rewrites}
    singles = [Variant((rewrite,)) for rewrite in names.values()]
    results = grade_variants(tmp_path_factory, lab, singles, seed)
    return [f"{v.rewrites[0].name} alone: {lost_points(r)}" for v, r in zip(singles, results, strict=True)
            if r.score != r.max_score]


def assert_equivalent_batch(tmp_path_factory, lab: Lab, variants: list[Variant], seed: int) -> None:
    """Every equivalent variant earns full marks; on failure, name the rewrites that lose points alone."""
    failures = equivalence_failures(variants, grade_variants(tmp_path_factory, lab, variants, seed))
    if failures:
        alone = culprits(tmp_path_factory, lab, variants, seed)
        raise AssertionError(f"lab {lab.number} (seed {seed}): equivalent solutions lost points\n"
                             + "\n".join(failures) + "\nrewrites that lose points on their own:\n"
                             + ("\n".join(alone) or "none (only their combination does)"))


def assert_mutation_batch(tmp_path_factory, lab: Lab, variants: list[Variant], seed: int) -> None:
    """Every mutated variant fails the checks its mutation names."""
    failures = mutation_failures(variants, grade_variants(tmp_path_factory, lab, variants, seed))
    assert not failures, (f"lab {lab.number} (seed {seed}): behaviour-changing solutions kept points\n"
                          + "\n".join(failures))


def assert_edits_apply(lab: Lab, variant: Variant) -> None:
    """Without grading: the variant compiles, and a mutation still changes the rewritten reference (a
    rewrite that erased it would make the mutation test prove nothing)."""
    reference = lab.solution_path.read_text()
    source = variant.source(reference)
    if variant.mutation:
        assert source != Variant(variant.rewrites).source(reference), f"{variant.label()}: the mutation vanished"
