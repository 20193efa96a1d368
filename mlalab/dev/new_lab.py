'''``mlalab dev new-lab SLUG``: a new lab folder that already keeps the lab contract.

The scaffold is a complete one-check lab (the grader creates an S3 bucket, the learner's function
tags it for cost allocation, the check reads the tag back), so that a new lab starts from something
that grades: the reference earns full marks, the generated starter earns nothing, and its one wrong
solution fails exactly its check. The author then replaces the scenario, the function and the check,
keeping each file's shape. Nothing outside the folder needs editing; the README's labs table is
regenerated here (and by ``mlalab dev readme``).
'''

from __future__ import annotations

import re
from pathlib import Path

from mlalab.catalog import BEGIN, END, read_labs
from mlalab.dev import readme

SLUG = re.compile(r"[a-z][a-z0-9_]{1,38}[a-z0-9]")
FOLDER = re.compile(r"(\d+)_(.+)")
# The curriculum row the scaffold's check trains (4.2 S7, tagging for cost monitoring), and for a
# lab of another task a row of that task to start from: the author names the rows the lab trains.
SKILLS = {
    "4.1": "4.1 S2: Monitoring workflows to detect anomalies or errors (scaffold: name the rows this lab trains)",
    "4.2": "4.2 K6: Cost tracking and allocation techniques (resource tagging)",
    "4.3": "4.3 S3: Monitoring, auditing, and logging ML systems (scaffold: name the rows this lab trains)",
}
TAGGING_SKILL = "4.2 S7: Preparing infrastructure for cost monitoring (a Project cost-allocation tag on a bucket)"


class NewLabError(Exception):
    """The lab cannot be scaffolded (a bad or taken slug): exit code 2."""


LAB_YAML = '''\
id: {id}
title: {title}
summary: "{summary}"
task: "{task}"
skills:
{skills}
services: [s3]
minutes: 15
functions:
  - name: tag_for_cost_allocation
    params: [bucket_name, project]
checks:
  - id: project-tag
    name: The bucket carries the Project cost-allocation tag
    points: 2
    function: tag_for_cost_allocation
hints:
  - >-
    s3.put_bucket_tagging(Bucket=..., Tagging={{'TagSet': [{{'Key': 'Project', 'Value': project}}]}}).
    Tag keys are case-sensitive.
'''

README = '''\
# Lab {number} · {title}

**Exam task {task}**: preparing infrastructure for cost monitoring with a tagging strategy. About 15
minutes.

## Scenario

Finance splits the ML platform's bill by project with cost-allocation tags. The grader creates a
bucket with a random name and calls your function with the bucket's name and the project's name.

## Task

`tag_for_cost_allocation(bucket_name, project)` tags the bucket `bucket_name` with the tag
`Project` = `project`.

## How it is graded (2 points)

The grader reads the bucket's tags back from S3 (`GetBucketTagging`).

**Done** means `make lab-{id}` shows 2/2.

## Exam notes

- Tag keys and values are case-sensitive: `project` is not `Project`.
- A tag becomes a cost-allocation tag once it is activated in the Billing console; Cost Explorer can
  then group costs by it.
'''

SOLUTION = '''\
"""Lab {number}: {title}.

Write tag_for_cost_allocation with boto3. The grader calls it with the names of the resources it
created for this run (they change every run) and then reads back what your code did. See README.md.
"""

import boto3


def tag_for_cost_allocation(bucket_name, project):
    """Tag the bucket with Project=project, the cost-allocation tag finance groups costs by."""
    {begin}
    s3 = boto3.client("s3")
    s3.put_bucket_tagging(Bucket=bucket_name, Tagging={{"TagSet": [{{"Key": "Project", "Value": project}}]}})
    {end}
'''

TEST_LAB = '''\
"""Lab {number} grader: the bucket the grader created must carry the Project cost-allocation tag.

A lab's checks by service belong in ``checks/`` (``checks/s3.py``) once a second lab needs them.
"""

from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from checks import require
from fixtures import scenarios
from mlalab.checking import Verdict, fail, ok


@dataclass(frozen=True)
class Scenario:
    bucket_name: str
    project: str


@pytest.fixture(scope="module")
def scenario(aws, rng, learner) -> Scenario:
    s = Scenario(bucket_name=scenarios.bucket(aws, rng, "ml-artifacts"), project=scenarios.name(rng, "churn"))
    learner({{"tag_for_cost_allocation": dict(bucket_name=s.bucket_name, project=s.project)}})
    return s


def project_tag(aws, bucket: str, project: str) -> Verdict:
    """The bucket's tag set holds Project=project. GetBucketTagging answers NoSuchTagSet for a bucket
    without tags (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html); tag
    keys and values are case-sensitive (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_Tag.html)."""
    try:
        tags = {{t["Key"]: t["Value"] for t in aws.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]}}
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchTagSet":
            raise
        tags = {{}}
    if tags.get("Project") == project:
        return ok()
    found = ", ".join(f"{{k}}={{v}}" for k, v in sorted(tags.items())) or "no tags"
    return fail(f"bucket {{bucket}} has {{found}}; expected the tag Project={{project}}. Cost Explorer groups costs "
                "by an activated cost-allocation tag key, and tag keys and values are case-sensitive: "
                "'project' is another key than 'Project'.")


@pytest.mark.check("project-tag")
def test_project_tag(aws, scenario):
    require(project_tag(aws, scenario.bucket_name, scenario.project))
'''

MUTATIONS = '''\
"""Lab {number}'s wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other."""

MUTATIONS = {{
    # Tag keys are case-sensitive: a lower-case key is another tag.
    "project-tag": [('"Key": "Project"', '"Key": "project"')],
}}
'''


def next_number(labs_dir: Path) -> int:
    numbers = [int(m[1]) for p in labs_dir.iterdir() if p.is_dir() and (m := FOLDER.fullmatch(p.name))]
    return max(numbers, default=0) + 1


def scaffold(root: Path, slug: str, title: str | None = None, task: str = "4.2") -> Path:
    """Write ``labs/NN_slug/`` under the project ``root``; return the folder."""
    labs_dir = root / "labs"
    if not SLUG.fullmatch(slug):
        raise NewLabError(f"{slug!r} is not a lab slug: 3 to 40 lowercase letters, digits and _, starting with a "
                          "letter (e.g. model_monitor_drift)")
    if task not in SKILLS:
        raise NewLabError(f"task must be one of {', '.join(SKILLS)}, not {task!r}")
    if not labs_dir.is_dir():
        raise NewLabError(f"no labs folder at {labs_dir}")
    taken = [p.name for p in labs_dir.iterdir() if (m := FOLDER.fullmatch(p.name)) and m[2] == slug]
    if taken:
        raise NewLabError(f"a lab with the slug {slug!r} exists already: labs/{taken[0]}")
    number = next_number(labs_dir)
    folder = labs_dir / f"{number:02d}_{slug}"
    title = (title or slug.replace("_", " ").capitalize()).strip()
    skills = [TAGGING_SKILL] + ([SKILLS[task]] if task != "4.2" else [SKILLS["4.2"]])
    # The markers are filled in, so that no file of the harness looks like a reference solution.
    values = dict(begin=BEGIN, end=END, id=number, number=f"{number:02d}", title=title, task=task,
                  summary="scaffold: a Project cost-allocation tag on a bucket (say here what the lab trains)",
                  skills="\n".join(f'  - "{skill}"' for skill in skills))
    folder.mkdir()
    for name, template in (("lab.yaml", LAB_YAML), ("README.md", README), ("solution.py", SOLUTION),
                           ("test_lab.py", TEST_LAB), ("mutations.py", MUTATIONS)):
        (folder / name).write_text(template.format(**values), encoding="utf-8")
    return folder


def refresh_readme(root: Path) -> bool:
    """Regenerate the README's labs table (when the README has the markers); True when it changed."""
    path = root / "README.md"
    if not path.is_file() or readme.BEGIN not in path.read_text(encoding="utf-8"):
        return False
    return readme.write(path, read_labs(root / "labs"))
