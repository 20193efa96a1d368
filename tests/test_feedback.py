"""Bad input from the learner gets a clear, specific message naming their file and line, the
other checks are still graded, and never a harness traceback."""

from mlalab.catalog import find_lab
from mlalab.grading import grade
from mlalab.server import LabServer
from tests.conftest import grade_source

HEADER = "import boto3\n\n\n"
SIGNATURE = ("def create_training_role(role_name, training_bucket, training_prefix, artifact_bucket, "
             "artifact_prefix,\n                         kms_key_arn, log_group):\n")


def test_syntax_error_names_file_line_and_code(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, HEADER + SIGNATURE + "    iam = boto3.client('iam'\n    return 1\n")
    assert result.problems[0].startswith("lab02.py line 6: SyntaxError: '(' was never closed")
    assert "iam = boto3.client('iam'" in result.problems[0]
    assert "Nothing in the file could run, so no check can pass." in result.problems[0]
    assert result.score == 0
    assert all(c.status == "fail" for c in result.checks)  # every check still graded, none errored
    assert "because: lab02.py could not be imported (see the problems above)" in result.checks[0].message


def test_import_error_names_the_line(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, "import boto3\nimport sagemaker_helpers\n")
    assert result.problems == [
        "lab02.py could not be imported: the module raised ModuleNotFoundError at lab02.py line 2  ->  "
        "import sagemaker_helpers: No module named 'sagemaker_helpers'. No function could be called."]


def test_misnamed_function_suggests_the_right_name(tmp_path, lab02):
    source = HEADER + SIGNATURE.replace("create_training_role", "create_trainig_role") + "    return None\n"
    result = grade_source(tmp_path, lab02, source)
    assert result.problems == [
        "lab02.py has no function create_training_role (did you mean create_trainig_role?): the grader calls "
        "create_training_role(role_name, training_bucket, training_prefix, artifact_bucket, artifact_prefix, "
        "kms_key_arn, log_group)"]


def test_missing_function(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, HEADER + "def helper():\n    pass\n")
    assert result.problems[0].startswith("lab02.py has no function create_training_role: the grader calls")


def test_wrong_signature(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, HEADER + "def create_training_role(role_name, bucket):\n    pass\n")
    assert result.problems == [
        "create_training_role has the wrong signature: the grader calls create_training_role(role_name, "
        "training_bucket, training_prefix, artifact_bucket, artifact_prefix, kms_key_arn, log_group) with "
        "keyword arguments, but yours is create_training_role(role_name, bucket) (missing a required argument: "
        "'bucket')"]


def test_aws_client_error_shows_code_message_line_and_hint(tmp_path, lab02):
    body = "    boto3.client('iam').attach_role_policy(RoleName=role_name, PolicyArn='arn:aws:iam::1:policy/Nope')\n"
    result = grade_source(tmp_path, lab02, HEADER + SIGNATURE + body)
    problem = result.problems[0]
    assert problem.startswith("create_training_role failed: AWS returned NoSuchEntity from AttachRolePolicy at "
                              "lab02.py line 6  ->  boto3.client('iam').attach_role_policy(")
    assert "(hint: the IAM entity does not exist (yet): create it before attaching to it)" in problem


def test_param_validation_error(tmp_path, lab02):
    body = "    boto3.client('iam').create_role(RoleName=role_name, Trust='{}')\n"
    result = grade_source(tmp_path, lab02, HEADER + SIGNATURE + body)
    assert result.problems[0].startswith("create_training_role failed at lab02.py line 6")
    assert "boto3 rejected the request before sending it: Parameter validation failed" in result.problems[0]


def test_plain_exception_shows_type_message_and_line(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, HEADER + SIGNATURE + "    policy = {}\n    return policy['Statement']\n")
    assert result.problems == ["create_training_role raised KeyError at lab02.py line 7  ->  "
                               "return policy['Statement']: 'Statement'"]


def test_time_out_is_reported_and_other_labs_still_graded(tmp_path, lab01, lab02):
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "lab02.py").write_text(HEADER + SIGNATURE + "    while True:\n        pass\n")
    (submission / "lab01.py").write_text(lab01.solution_path.read_text())
    result = grade(submission, [lab02, lab01], seed=5, timeout=4)
    slow, good = result.labs
    assert slow.problems == ["your code did not finish within 4 s while running create_training_role and was "
                             "stopped: look for a loop that never ends or a waiter without a time limit. "
                             "Functions after it were not called."]
    assert slow.score == 0 and good.score == good.max_score


def test_missing_file(tmp_path, lab02, monkeypatch):
    (tmp_path / "empty").mkdir()
    resets = []
    monkeypatch.setattr(LabServer, "reset", staticmethod(lambda: resets.append(1)))
    result = grade(tmp_path / "empty", [lab02]).labs[0]
    assert result.problems == ["lab02.py was not found in the submission: run `mlalab start 2` to create it "
                               "from the starter"]
    assert result.status == "fail" and result.score == 0
    assert [c.message for c in result.checks] == ["not graded: the submission has no lab02.py"] * len(lab02.checks)
    assert [c.status for c in result.checks] == ["fail"] * len(lab02.checks)
    assert resets == []  # no AWS was set up for a lab with nothing to run


def test_a_missing_file_beside_a_present_one(tmp_path, lab02):
    """In one session, the lab whose file is there is graded as ever; the other is not graded."""
    lab01 = find_lab(1)
    (tmp_path / "lab01.py").write_text(lab01.solution_path.read_text())
    first, second = grade(tmp_path, [lab01, lab02]).labs
    assert first.score == first.max_score and first.status == "pass"
    assert second.score == 0 and second.checks[0].message == "not graded: the submission has no lab02.py"


def test_learner_output_is_captured_and_capped(tmp_path, lab02):
    result = grade_source(tmp_path, lab02, HEADER + "print('x' * 100_000)\n" + SIGNATURE + "    print('hi')\n")
    assert result.output_truncated
    assert result.output.startswith("x" * 16_000)
    assert result.output.endswith("\n[mla-labs: output cut here; only the first 16000 characters are kept]\n")


def test_aws_managed_policy_gets_a_specific_hint(tmp_path, lab02):
    body = ("    iam = boto3.client('iam')\n"
            "    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument='{\"Version\": \"2012-10-17\", "
            "\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": \"sagemaker.amazonaws.com\"}, "
            "\"Action\": \"sts:AssumeRole\"}]}')\n"
            "    iam.attach_role_policy(RoleName=role_name,\n"
            "                           PolicyArn='arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess')\n")
    result = grade_source(tmp_path, lab02, HEADER + SIGNATURE + body)
    assert result.problems[0].startswith("create_training_role failed: AWS returned NoSuchEntity from "
                                         "AttachRolePolicy at lab02.py line 8")
    assert result.problems[0].endswith("(hint: AWS managed policies are not loaded in these offline labs; they are "
                                       "also broader than least privilege allows: write your own policy with the "
                                       "exact actions and resources)")
