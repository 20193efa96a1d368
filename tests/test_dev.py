"""The maintainer tools (``mlalab dev``): a scaffolded lab keeps the lab contract as it is written,
``dev check`` passes on the real catalogue and names each kind of defect, the README's labs table and
the curriculum copy are generated, not hand-kept."""

from __future__ import annotations

import re
import runpy
import shutil
from pathlib import Path

import pytest
import yaml

from mlalab import cli
from mlalab.catalog import LABS_DIR, PROJECT_ROOT, find_lab, lab_for_test_module, load_lab, read_labs, skill_row
from mlalab.dev import check, curriculum, new_lab, readme
from mlalab.grading import grade
from tests.conftest import apply, failing, grade_sources

SLUG = "cost_tags"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path) -> Path:
    """A project of its own: the curriculum copy, a README with the table markers, one scaffolded lab."""
    root = tmp_path / "project"
    (root / "labs").mkdir(parents=True)
    shutil.copy(LABS_DIR / curriculum.CURRICULUM_FILE, root / "labs")
    (root / "README.md").write_text(f"# course\n\n## The labs\n\n{readme.BEGIN}\n{readme.END}\n\nMore text.\n")
    new_lab.scaffold(root, SLUG, title="Tags that split the bill")
    new_lab.refresh_readme(root)
    return root


def lab_folder(root: Path) -> Path:
    return root / "labs" / f"01_{SLUG}"


def problems(root: Path) -> list[str]:
    return check.check_catalogue(root).problems


# --- the real catalogue ---------------------------------------------------------------------------


def test_dev_check_passes_on_the_real_catalogue(capsys):
    code, out, _ = run(capsys, "dev", "check")
    assert code == 0, out
    assert out.startswith(f"The catalogue is sound: {len(read_labs())} labs")
    assert re.search(r"Curriculum rows trained by a lab: \d+/32", out)


def test_every_skill_of_the_real_catalogue_names_a_curriculum_row():
    rows = curriculum.load()
    for lab in read_labs():
        for skill in lab.skills:
            task, row = skill_row(skill)
            assert row in rows[task]["rows"], skill


def test_the_curriculum_copy_is_what_the_guide_says(tmp_path):
    if not curriculum.DEFAULT_SOURCE.is_file():
        pytest.skip("the exam guide is not beside this checkout; labs/curriculum.yaml is the copy")
    curriculum.write_copy(curriculum.DEFAULT_SOURCE, tmp_path)
    assert (tmp_path / curriculum.CURRICULUM_FILE).read_text() == (LABS_DIR / curriculum.CURRICULUM_FILE).read_text()


def test_the_guide_is_parsed_into_knowledge_areas_and_skills():
    guide = "\n".join([
        "Study Tips", "-", "1. Not a row: before the first task",
        "Task 4.1: Monitor model inference", "Knowledge Areas & AWS Documentation Reading List",
        "1. Drift in ML models", "Why: drift degrades models.", "AWS Documentation:", "- SageMaker Model Monitor",
        "2. Techniques to monitor data quality", "Skills & Corresponding Documentation",
        "Monitoring models in production", "Why: ...", "- Enable Data Capture",
        "Monitoring model performance in production by using A/B testing",
        "Task 4.3: Secure AWS resources", "Knowledge Areas & AWS Documentation Reading List",
        "1. IAM roles", "Skills & Corresponding Documentation", "Configuring least privilege access",
        "AWS Service FAQs", "- Amazon SageMaker FAQs"])
    assert curriculum.parse_guide(guide) == {
        "4.1": {"title": "Monitor model inference", "rows": {
            "K1": "Drift in ML models", "K2": "Techniques to monitor data quality",
            "S1": "Monitoring models in production",
            "S2": "Monitoring model performance in production by using A/B testing"}},
        "4.3": {"title": "Secure AWS resources",
                "rows": {"K1": "IAM roles", "S1": "Configuring least privilege access"}},
    }
    with pytest.raises(curriculum.CurriculumError, match="no 'Task 4.x"):
        curriculum.parse_guide("some other text")


def test_dev_curriculum_writes_the_copy(capsys, tmp_path):
    guide = tmp_path / "guide.txt"
    guide.write_text("Task 4.2: Costs\nKnowledge Areas\n1. Tagging\nSkills & Docs\nPreparing infrastructure\n")
    (tmp_path / "labs").mkdir()
    code, out, _ = run(capsys, "dev", "curriculum", str(guide), "--root", str(tmp_path))
    assert (code, out) == (0, f"Wrote {tmp_path / 'labs' / 'curriculum.yaml'}: 2 rows of the exam guide's Domain 4.\n")
    assert curriculum.load(tmp_path / "labs")["4.2"]["rows"] == {"K1": "Tagging", "S1": "Preparing infrastructure"}
    code, _, err = run(capsys, "dev", "curriculum", str(tmp_path / "missing.txt"), "--root", str(tmp_path))
    assert code == 2 and err.startswith(f"mlalab dev curriculum: cannot read the exam guide {tmp_path / 'missing.txt'}")


# --- new-lab: a scaffold that already keeps the lab contract ----------------------------------------


def test_a_scaffolded_lab_keeps_the_lab_contract(project, tmp_path):
    """Graded like every lab in tests/labs/test_every_lab.py: the reference earns full marks, the
    generated starter earns nothing, and the wrong solution fails exactly its check."""
    lab = load_lab(lab_folder(project))
    assert problems(project) == []
    assert lab_for_test_module(lab.test_module) == lab  # outside the project's labs/: read from its folder
    reference = grade(None, [lab], seed=7).labs[0]
    assert (reference.score, reference.max_score, failing(reference)) == (2, 2, set())
    mutations = runpy.run_path(str(lab.path / "mutations.py"))["MUTATIONS"]
    starter, wrong = grade_sources(tmp_path, lab, [
        lab.starter_text(), apply(lab.solution_path.read_text(), mutations["project-tag"])])
    assert (starter.score, failing(starter)) == (0, {"project-tag"})
    assert starter.problems == ["tag_for_cost_allocation is not written yet (it raises NotImplementedError)"]
    assert failing(wrong) == {"project-tag"}
    assert "has project=" in wrong.checks[0].message and "case-sensitive" in wrong.checks[0].message


def test_new_lab_numbers_the_next_free_folder_and_refreshes_the_readme(capsys, project):
    code, out, _ = run(capsys, "dev", "new-lab", "drift_alarm", "--task", "4.1", "--root", str(project))
    folder = project / "labs" / "02_drift_alarm"
    assert code == 0 and out.startswith(f"Created {folder} and the README's labs table: a one-check lab")
    lab = load_lab(folder)
    assert (lab.id, lab.title, lab.task) == (2, "Drift alarm", "4.1")
    assert sorted({skill_row(s)[0] for s in lab.skills}) == ["4.1", "4.2"]
    assert "| 02 | Drift alarm | 4.1 (and 4.2) | 15 |" in (project / "README.md").read_text()
    assert problems(project) == []


@pytest.mark.parametrize("slug, message", [
    ("Bad Slug", "'Bad Slug' is not a lab slug: 3 to 40 lowercase letters, digits and _, starting with a letter"),
    ("9lives", "'9lives' is not a lab slug"),
    ("x", "'x' is not a lab slug"),
    ("../escape", "'../escape' is not a lab slug"),
    (SLUG, f"a lab with the slug '{SLUG}' exists already: labs/01_{SLUG}"),
])
def test_new_lab_refuses_a_bad_or_taken_slug(capsys, project, slug, message):
    code, out, err = run(capsys, "dev", "new-lab", slug, "--root", str(project))
    assert (code, out) == (2, "")
    assert err.startswith(f"mlalab dev new-lab: {message}")
    assert sorted(p.name for p in (project / "labs").iterdir()) == [f"01_{SLUG}", "curriculum.yaml"]


# --- dev check names each kind of defect -------------------------------------------------------------


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def edit_yaml(path: Path, change) -> None:
    meta = yaml.safe_load(path.read_text())
    change(meta)
    path.write_text(yaml.safe_dump(meta, sort_keys=False))


def _add_check(meta: dict) -> None:
    meta["checks"].append({"id": "extra", "name": "Another check", "points": 1})


DEFECTS = {
    "missing metadata": (lambda lab: edit_yaml(lab / "lab.yaml", lambda m: m.pop("minutes")),
                         ["lab.yaml: missing minutes"]),
    "misspelt key": (lambda lab: edit_yaml(lab / "lab.yaml", lambda m: m.update(hint=m.pop("hints"))),
                     ["lab.yaml: missing hints", "lab.yaml: unknown key 'hint'"]),
    "no hints": (lambda lab: edit_yaml(lab / "lab.yaml", lambda m: m.update(hints=[])),
                 ["lab.yaml: hints must be a non-empty list of texts"]),
    "check without points": (lambda lab: edit_yaml(lab / "lab.yaml", lambda m: m["checks"][0].update(points=0)),
                             ["lab.yaml: check 'project-tag' needs points above 0, not 0"]),
    "function without params": (lambda lab: edit_yaml(lab / "lab.yaml", lambda m: m["functions"][0].pop("params")),
                                ["lab.yaml: function 'tag_for_cost_allocation' needs params"]),
    "id and folder disagree": (lambda lab: edit_yaml(lab / "lab.yaml", lambda m: m.update(id=7)),
                               ["lab.yaml: id 7 does not match the folder name '01_cost_tags'"]),
    "skill names no row": (lambda lab: edit(lab / "lab.yaml", '"4.2 K6: Cost', '"4.2 Cost'),
                           ["lab.yaml: skill '4.2 Cost tracking and allocation techniques (resource tagging)' names "
                            "no curriculum row: write it as \"4.3 S2: what the lab trains of it\""]),
    "skill names a missing row": (lambda lab: edit(lab / "lab.yaml", '"4.2 K6: Cost', '"4.2 K9: Cost'),
                                  ["the curriculum has no row 4.2 K9"]),
    "skill names the wrong row": (lambda lab: edit(lab / "lab.yaml", '"4.2 K6: Cost', '"4.2 S2: Cost'),
                                  ["its text shares no word with row 4.2 S2 ('Creating CloudTrail trails')"]),
    "no skill of its own task": (lambda lab: edit_yaml(lab / "lab.yaml", lambda m: m.update(task="4.3")),
                                 ["lab.yaml: no skill of the lab's own task 4.3"]),
    "check without test": (lambda lab: edit_yaml(lab / "lab.yaml", _add_check),
                           ["test_lab.py: no test for check 'extra'",
                            "mutations.py: no wrong solution for check 'extra'"]),
    "test without check": (lambda lab: edit(lab / "test_lab.py", '@pytest.mark.check("project-tag")',
                                            '@pytest.mark.check("project-tags")'),
                           ["test_lab.py: no test for check 'project-tag'",
                            "test_lab.py: a test grades 'project-tags', which lab.yaml does not declare"]),
    "unmarked test": (lambda lab: (lab / "test_lab.py").write_text((lab / "test_lab.py").read_text()
                                                                   + "\n\ndef test_helper():\n    pass\n"),
                      ["test_lab.py: test_helper has no @pytest.mark.check(\"id\")"]),
    "anchor not found": (lambda lab: edit(lab / "mutations.py", "'\"Key\": \"Project\"'", "'\"Key\":  \"Project\"'"),
                         ["mutations.py: 'project-tag': the edit's old text occurs 0 times in the reference"]),
    "anchor found twice": (lambda lab: edit(lab / "mutations.py", "'\"Key\": \"Project\"'", "'s3'"),
                           ["the edit's old text occurs 3 times in the reference (must be exactly once): 's3'"]),
    "no wrong solution": (lambda lab: edit(lab / "mutations.py", '"project-tag": [', '"other": ['),
                          ["mutations.py: no wrong solution for check 'project-tag'",
                           "mutations.py: a wrong solution for 'other', which lab.yaml does not declare"]),
    "signature differs": (lambda lab: edit(lab / "solution.py", "(bucket_name, project)", "(bucket, project)"),
                          ["solution.py: tag_for_cost_allocation(bucket, project) differs from lab.yaml's "
                           "tag_for_cost_allocation(bucket_name, project)"]),
    "stray file": (lambda lab: (lab / "notes.txt").write_text("todo"),
                   ["labs/01_cost_tags/notes.txt: stray file: a lab folder holds lab.yaml, README.md"]),
    "stray data module": (lambda lab: (lab / "data.py").write_text("X = 1\n"), ["data.py: stray file"]),
    "stale README table": (lambda lab: edit(lab / "lab.yaml", "minutes: 15", "minutes: 20"),
                           ["README.md: the labs table is stale: run `mlalab dev readme`"]),
    "instructions without the exam task": (lambda lab: edit(lab / "README.md", "**Exam task 4.2**", "**Task**"),
                                           ["README.md: does not say 'Exam task 4.2'"]),
    "folder without lab.yaml": (lambda lab: (lab.parent / "03_draft").mkdir(),
                                ["labs/03_draft: a folder without lab.yaml"]),
    "no curriculum copy": (lambda lab: (lab.parent / "curriculum.yaml").unlink(),
                           ["cannot read the curriculum rows"]),
}


@pytest.mark.parametrize("defect", DEFECTS)
def test_dev_check_names_each_defect(capsys, project, defect):
    damage, expected = DEFECTS[defect]
    damage(lab_folder(project))
    found = problems(project)
    for message in expected:
        assert any(message in problem for problem in found), (message, found)
    code, out, _ = run(capsys, "dev", "check", "--root", str(project))
    assert code == 1 and out.startswith("mlalab dev check: ") and expected[0] in out


def test_a_data_module_the_lab_loads_is_not_stray(project):
    folder = lab_folder(project)
    (folder / "data.py").write_text("PROJECTS = ['churn']\n")
    edit(folder / "test_lab.py", "from mlalab.checking import Verdict, fail, ok\n",
         "from mlalab.catalog import lab_module\nfrom mlalab.checking import Verdict, fail, ok\n\n"
         "data = lab_module(__file__, \"data\")\n")
    assert problems(project) == []


def test_dev_readme_rewrites_only_the_table(capsys, project):
    edit(lab_folder(project) / "lab.yaml", "minutes: 15", "minutes: 20")
    code, out, _ = run(capsys, "dev", "readme", "--root", str(project))
    text = (project / "README.md").read_text()
    assert code == 0 and "the labs table is rewritten" in out
    assert "| 01 | Tags that split the bill | 4.2 | 20 |" in text
    assert text.startswith("# course\n\n## The labs\n\n<!-- labs:begin -->\n") and text.endswith(
        "<!-- labs:end -->\n\nMore text.\n")
    assert problems(project) == []
    assert run(capsys, "dev", "readme", "--root", str(project))[1].endswith("was already up to date.\n")
    (project / "README.md").write_text("# no markers\n")
    code, _, err = run(capsys, "dev", "readme", "--root", str(project))
    assert code == 2 and "needs one <!-- labs:begin --> line" in err


def test_the_project_readme_table_is_generated():
    text = (PROJECT_ROOT / "README.md").read_text()
    assert readme.is_fresh(PROJECT_ROOT / "README.md", read_labs())
    for lab in read_labs():
        assert f"| {lab.number} | {lab.title} | {readme.exam_tasks(lab)} | {lab.minutes} |" in text
    assert readme.exam_tasks(find_lab(1)) == "4.2 (and 4.1)"
