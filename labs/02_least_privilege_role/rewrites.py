"""Lab 02's generated solutions: rewrites of the reference (``solution.py``) that IAM evaluates exactly
like it (each must earn full marks, alone or composed in any order), and single mutations that change
what the role may do (each must lose the points of the checks in ``fails``, also after any rewrites).
``tests/property`` draws them with Hypothesis. Not for the learner edition: the edits quote the
reference.

Mutations are applied to the reference first, then rewrites: a rewrite is an equivalence, so the
result behaves like the mutated solution and must fail the same checks. Structural rewrites (split,
merge, reorder) are snippets that transform the policy dictionaries before the role is created, so
they compose with each other and with any text edit of the literals.
"""

from __future__ import annotations

import re

from tests.property.edits import Edit, Rewrite, append, chain, insert_before, sub

CREATE_ROLE = r"role = iam\.create_role\("
ELEMENTS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html"
EVALUATION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
CONDITIONS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
CONFUSED_DEPUTY = "https://docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html"
CONDITION_ELEMENT = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html"
ACTION_ELEMENT = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"
BOUNDARIES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
MULTIVALUED = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html"
MANAGED_VS_INLINE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html"


def snippet(code: str, *helpers: str) -> Edit:
    """Run ``code`` on the policy dictionaries just before the role is created (and define the
    module-level functions it calls, each once)."""
    return chain(insert_before(CREATE_ROLE, code), *(append(h, h.strip().split("(")[0]) for h in helpers))


HELPERS = '''
def as_list(value):
    return [value] if isinstance(value, str) else list(value)
'''

SPLIT = '''
def split_statements(statements):
    """One statement per action: a request is allowed when any statement allows it."""
    parts = []
    for statement in statements:
        for index, action in enumerate(as_list(statement["Action"])):
            part = dict(statement, Action=action)
            if "Sid" in statement:
                part["Sid"] = f"{statement['Sid']}{index}"
            parts.append(part)
    return parts
'''

MERGE = '''
def merge_kms_and_logs(statements):
    """The KMS and log statements as one: kms actions apply only to keys and logs actions only to log
    ARNs, so the action/resource pairs the merge adds match no request."""
    def service(statement):
        actions = {a.split(":")[0].lower() for a in as_list(statement.get("Action", []))}
        arns = {r.split(":")[2] if r.count(":") >= 5 else "*" for r in as_list(statement.get("Resource", []))}
        return actions.pop() if len(actions) == 1 and actions == arns else None

    groups = {}
    for statement in statements:
        mergeable = statement.get("Effect") == "Allow" and "Condition" not in statement
        if mergeable and service(statement) in ("kms", "logs"):
            groups.setdefault(service(statement), []).append(statement)
    if len(groups) < 2 or any(len({str(as_list(s["Resource"])) for s in g}) > 1 for g in groups.values()):
        return statements
    merged = {"Effect": "Allow", "Action": [a for g in groups.values() for s in g for a in as_list(s["Action"])],
              "Resource": [r for g in groups.values() for r in as_list(g[0]["Resource"])]}
    return [s for s in statements if all(s not in g for g in groups.values())] + [merged]
'''

HALVES = '''
def halves(policy):
    """The policy as two documents (a role's permissions are the union of its policies)."""
    statements = policy["Statement"]
    if len(statements) < 2:
        return [policy]
    middle = len(statements) // 2
    return [dict(policy, Statement=statements[:middle]), dict(policy, Statement=statements[middle:])]
'''

EXACT_PREFIX = """permissions["Statement"].append({{"Effect": "Allow", "Action": "s3:ListBucket",
                                 "Resource": f"arn:aws:s3:::{{training_bucket}}",
                                 "Condition": {{"{operator}": {{"s3:prefix": training_prefix}}}}}})"""

DENY_INSECURE = """permissions["Statement"].append({"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}})"""

BOUNDARY = """boundary = iam.create_policy(PolicyName=f"{role_name}-boundary",
                             PolicyDocument=json.dumps(permissions))["Policy"]["Arn"]"""

# The permissions policy attached to the role: one put_role_policy line, or create_policy + attach.
ATTACH = (r'^( *)(iam\.put_role_policy\(.*json\.dumps\(permissions.*\n'
          r'|policy = iam\.create_policy\(.*json\.dumps\(permissions.*\n *iam\.attach_role_policy\(.*\n)')


def _two_policies(match) -> str:
    indent, lines = match[1], match[2].replace("json.dumps(permissions", "json.dumps(document")
    lines = sub(r'PolicyName="([^"]*)"', r'PolicyName=f"\1-{part}"')(lines)
    lines = sub(r'PolicyName=f"(.*?)"', r'PolicyName=f"\1-{part}"')(lines) if "{part}" not in lines else lines
    body = "".join(f"{indent}    {line.strip()}\n" for line in lines.splitlines())
    return f"{indent}for part, document in enumerate(halves(permissions)):\n{body}"


REWRITES = [
    Rewrite("sids-removed", sub(r'"Sid": "[^"]*", ', ""), f"Sid is an optional label: {ELEMENTS}"),
    Rewrite("actions-as-lists", sub(r'"Action": ("[^"]*")', r'"Action": [\1]'),
            f"Action is a string or a list of strings: {ELEMENTS}"),
    Rewrite("resources-as-lists", sub(r'"Resource": (f?"[^"]*"|\w+)(?=[,}])', r'"Resource": [\1]'),
            f"Resource is a string or a list of strings: {ELEMENTS}"),
    Rewrite("condition-value-string", sub(r'"s3:prefix": \[(f?"[^"]*")\]', r'"s3:prefix": \1'),
            f"a condition value is a string or a list of strings: {CONDITIONS}"),
    Rewrite("service-principal-list", sub(r'"Service": "sagemaker\.amazonaws\.com"',
                                          '"Service": ["sagemaker.amazonaws.com"]'),
            f"a principal is a string or a list: {ELEMENTS}"),
    Rewrite("trust-confused-deputy",
            sub(r'("Action": \[?"sts:AssumeRole"\]?)\}',
                r'\1,\n                       "Condition": {"StringEquals": {"aws:SourceAccount": account},'
                r'\n                                     "ArnLike": {"aws:SourceArn": '
                r'f"arn:aws:sagemaker:{region}:{account}:*"}}}'),
            f"SageMaker sends aws:SourceAccount and aws:SourceArn when it assumes the role: {CONFUSED_DEPUTY}"),
    Rewrite("list-exact-prefix-string-equals", snippet(EXACT_PREFIX.format(operator="StringEquals")),
            "a second ListBucket grant for the exact prefix, which the prefix* grant already covers"),
    Rewrite("list-exact-prefix-string-like", snippet(EXACT_PREFIX.format(operator="StringLike")),
            f"the same grant with StringLike: a value without * or ? matches exactly as StringEquals: {CONDITIONS}"),
    Rewrite("list-condition-exact-and-wildcard",
            sub(r'"s3:prefix": \[f"\{training_prefix\}\*"\]', '"s3:prefix": [training_prefix, f"{training_prefix}*"]'),
            f"prefix* already matches prefix itself: {CONDITIONS}"),
    Rewrite("boundary-same-as-permissions",
            chain(insert_before(CREATE_ROLE, BOUNDARY),
                  sub(r'(role = iam\.create_role\(RoleName=role_name, )', r'\1PermissionsBoundary=boundary, ')),
            f"a permissions boundary equal to the permissions limits nothing (effective = identity and boundary): "
            f"{BOUNDARIES}"),
    Rewrite("list-condition-for-any-value",
            sub(r'"StringLike": \{"s3:prefix"', '"ForAnyValue:StringLike": {"s3:prefix"'),
            "for a single-valued key, ForAnyValue:StringLike matches when StringLike does, and both fail when the key "
            f"is absent: {MULTIVALUED}"),
    Rewrite("condition-keys-case", sub(r'"s3:prefix"', '"S3:Prefix"'),
            f"condition key names are not case-sensitive: {CONDITION_ELEMENT}"),
    Rewrite("actions-case", sub(r'"(s3|kms|logs):(\w+)"', lambda m: f'"{m[1].upper()}:{m[2].lower()}"'),
            f"the service prefix and action name of an action are case-insensitive: {ACTION_ELEMENT}"),
    Rewrite("deny-insecure-transport", snippet(DENY_INSECURE),
            "a Deny of requests without TLS: the training job's requests all use TLS, so nothing it needs "
            f"changes, and a Deny grants nothing: {EVALUATION}"),
    Rewrite("statements-split", snippet('permissions["Statement"] = split_statements(permissions["Statement"])',
                                        HELPERS, SPLIT),
            f"one statement per action: the union of Allows is the same: {EVALUATION}"),
    Rewrite("kms-and-logs-merged", snippet('permissions["Statement"] = merge_kms_and_logs(permissions["Statement"])',
                                           HELPERS, MERGE),
            "actions only apply to their own service's resources, so the merge adds no request"),
    Rewrite("statements-reversed", snippet('permissions["Statement"].reverse()'),
            f"statement order does not matter: {EVALUATION}"),
    Rewrite("actions-and-resources-reversed",
            snippet('for statement in permissions["Statement"]:\n'
                    '    for key in ("Action", "Resource"):\n'
                    '        if isinstance(statement.get(key), list):\n'
                    '            statement[key] = statement[key][::-1]'),
            f"Action and Resource lists are sets: {ELEMENTS}"),
    Rewrite("json-sorted-and-indented", sub(r'json\.dumps\((\w+)\)', r'json.dumps(\1, indent=2, sort_keys=True)'),
            "whitespace and key order of a JSON policy mean nothing"),
    Rewrite("managed-policy",
            sub(r'^( *)iam\.put_role_policy\(RoleName=role_name, PolicyName=(.+?), '
                r'PolicyDocument=(json\.dumps\(.*\))\)$',
                r'\1policy = iam.create_policy(PolicyName=\2, PolicyDocument=\3)["Policy"]\n'
                r'\1iam.attach_role_policy(RoleName=role_name, PolicyArn=policy["Arn"])'),
            f"an attached customer managed policy grants what the same inline policy does: {MANAGED_VS_INLINE}"),
    Rewrite("two-policies", chain(sub(ATTACH, _two_policies), append(HALVES, "def halves(")),
            f"a role's permissions are the union of its policies: {EVALUATION}"),
]

READ = 'f"arn:aws:s3:::{training_bucket}/{training_prefix}*"'
WRITE = 'f"arn:aws:s3:::{artifact_bucket}/{artifact_prefix}*"'
OTHER_ACCOUNT = '"AWS": "arn:aws:iam::999999999999:root"'

MUTATIONS = [
    Rewrite("read-whole-training-bucket", sub(r'/\{training_prefix\}\*"', '/*"'),
            "every object of the training bucket is readable", frozenset({"training-data-scoped"})),
    Rewrite("read-object-acl-too", sub(r'"Action": "s3:GetObject"', '"Action": ["s3:GetObject", "s3:GetObjectAcl"]'),
            "the job can also read object ACLs, which it does not need", frozenset({"training-data-scoped"})),
    Rewrite("s3-star-on-training-data", sub(r'"Action": "s3:GetObject"', '"Action": "s3:*"'),
            "every S3 action on the training prefix, writes and deletes included",
            frozenset({"training-data-scoped", "no-broad-statements"})),
    Rewrite("get-wildcard", sub(r'"Action": "s3:GetObject"', '"Action": "s3:Get*"'),
            "s3:Get* grants GetObjectAcl, GetObjectTagging...", frozenset({"no-broad-statements"})),
    Rewrite("put-object-wildcard", sub(r'"Action": "s3:PutObject"', '"Action": "s3:PutObject*"'),
            "s3:PutObject* grants PutObjectAcl", frozenset({"write-artifacts", "no-broad-statements"})),
    Rewrite("artifact-delete-too", sub(r'"Action": "s3:PutObject"', '"Action": ["s3:PutObject", "s3:DeleteObject"]'),
            "the job can delete artifacts", frozenset({"write-artifacts"})),
    Rewrite("list-condition-dropped", sub(r',\n +"Condition": \{"StringLike": \{"s3:prefix": \[[^]]*\]\}\}\}', "}"),
            "ListBucket on the whole bucket", frozenset({"list-prefix"})),
    Rewrite("list-condition-any-prefix", sub(r'"s3:prefix": \[f"\{training_prefix\}\*"\]', '"s3:prefix": ["*"]'),
            "a condition that matches every prefix", frozenset({"list-prefix"})),
    Rewrite("read-prefix-without-delimiter", sub(r'/\{training_prefix\}\*"', "/{training_prefix.rstrip('/')}*\""),
            "datasets/churn/v2* also matches datasets/churn/v20/ and datasets/churn/v2-old/",
            frozenset({"training-data-scoped"})),
    Rewrite("list-prefix-without-delimiter",
            sub(r'\[f"\{training_prefix\}\*"\]', "[f\"{training_prefix.rstrip('/')}*\"]"),
            "listing datasets/churn/v2* also lists datasets/churn/v20/", frozenset({"list-prefix"})),
    Rewrite("write-prefix-without-delimiter", sub(r'/\{artifact_prefix\}\*"', "/{artifact_prefix.rstrip('/')}*\""),
            "churn/abcd* also matches churn/abcdef/", frozenset({"write-artifacts"})),
    Rewrite("read-and-write-merged",
            chain(sub(r'"Action": "s3:GetObject",\n +"Resource": ' + re.escape(READ),
                      '"Action": ["s3:GetObject", "s3:PutObject"],\n             "Resource": [' + READ + ", "
                      + WRITE + "]"),
                  sub(r' +\{"Sid": "WriteModelArtifacts".*\n.*\n', "")),
            "GetObject and PutObject on both prefixes: the training data becomes writable",
            frozenset({"training-data-scoped"})),
    Rewrite("trust-other-account", sub(r'"Principal": \{"Service": "sagemaker\.amazonaws\.com"\}',
                                       '"Principal": {"Service": "sagemaker.amazonaws.com", ' + OTHER_ACCOUNT + "}"),
            "another account can assume the role", frozenset({"trust-policy"})),
    Rewrite("trust-extra-sts-action", sub(r'"Action": "sts:AssumeRole"',
                                          '"Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]'),
            "the trust policy allows web identity federation too", frozenset({"trust-policy"})),
    Rewrite("trust-wrong-service", sub(r'"sagemaker\.amazonaws\.com"', '"ec2.amazonaws.com"'),
            "EC2, not SageMaker, can assume the role", frozenset({"trust-policy"})),
    Rewrite("kms-any-key", sub(r'"Resource": kms_key_arn', '"Resource": "*"'),
            "every KMS key", frozenset({"kms-key", "no-broad-statements"})),
    Rewrite("kms-key-deletion-too",
            sub(r'"kms:GenerateDataKey"\]', '"kms:GenerateDataKey", "kms:ScheduleKeyDeletion"]'),
            "the job can schedule the key's deletion", frozenset({"kms-key"})),
    Rewrite("kms-create-grant-too", sub(r'"kms:GenerateDataKey"\]', '"kms:GenerateDataKey", "kms:CreateGrant"]'),
            "CreateGrant hands the key's use to any principal (permissions management)", frozenset({"kms-key"})),
    Rewrite("logs-delete-stream-too", sub(r'"logs:PutLogEvents"\]', '"logs:PutLogEvents", "logs:DeleteLogStream"]'),
            "the job can delete its log streams (the audit trail)", frozenset({"training-logs"})),
    Rewrite("logs-any-group", sub(r'log-group:\{log_group\}:log-stream:\*"', 'log-group:*"'),
            "every log group", frozenset({"training-logs"})),
    Rewrite("pass-role-too", sub(r'^( +)\{"Sid": "UseDataKey",',
                                 r'\1{"Effect": "Allow", "Action": "iam:PassRole", '
                                 r'"Resource": f"arn:aws:iam::{account}:role/admin"},\n\1{"Sid": "UseDataKey",'),
            "the role can pass an admin role", frozenset({"no-other-services"})),
]
