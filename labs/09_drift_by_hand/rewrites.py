"""Lab 09's generated solutions: rewrites of the reference (``solution.py``) that compute the same
values another way (each must earn full marks, alone or composed in any order: scipy-free alternative
formulations of each statistic, other ways to read S3 and write the report), and single mutations
that change a value (each must lose the points of the checks in ``fails``, also after any rewrites).
``tests/property`` draws them with Hypothesis. Not for the learner edition: the edits quote the
reference.

Mutations are applied to the reference first, then rewrites. A rewrite that replaces a whole
function body is anchored on the reference's exact text, so after a mutation of that body it leaves
the source alone (and the mutation stays visible).
"""

from __future__ import annotations

import re

from tests.property.edits import Rewrite, in_function, sub

KS_BODY = '''\
    points = np.concatenate([a, b])  # the CDFs only step at observed values
    cdf_a = np.searchsorted(a, points, side="right") / a.size  # share of a <= x: every tied copy counts
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))
'''

KS_MERGE = '''\
    # A merge of the two sorted samples, passing every copy of a value before measuring the gap.
    x, y = a.tolist(), b.tolist()
    i = j = 0
    widest = 0.0
    while i < len(x) and j < len(y):
        value = min(x[i], y[j])
        while i < len(x) and x[i] == value:
            i += 1
        while j < len(y) and y[j] == value:
            j += 1
        widest = max(widest, abs(i / len(x) - j / len(y)))
    return widest
'''

KS_COUNTING = '''\
    points = np.unique(np.concatenate([a, b]))
    cdf_a = np.array([np.count_nonzero(a <= x) for x in points]) / len(a)
    cdf_b = np.array([np.count_nonzero(b <= x) for x in points]) / len(b)
    return float(np.abs(cdf_a - cdf_b).max())
'''

LINF_BODY = '''\
    categories = sorted(set(baseline_counts) | set(current_counts))
    p, q = _shares(baseline_counts, categories), _shares(current_counts, categories)
    return float(np.max(np.abs(p - q)))
'''

LINF_LOOP = '''\
    n, m = sum(baseline_counts.values()), sum(current_counts.values())
    widest = 0.0
    for category in set(baseline_counts) | set(current_counts):
        gap = abs(baseline_counts.get(category, 0) / n - current_counts.get(category, 0) / m)
        widest = max(widest, gap)
    return widest
'''

JS_KL = '''\
    kl = [np.sum(x[x > 0] * np.log2(x[x > 0] / m[x > 0])) for x in (p, q)]
    return float(kl[0] / 2 + kl[1] / 2)
'''

JS_ENTROPY = '''\
    def entropy(dist):
        nonzero = dist[dist > 0]
        return -np.sum(nonzero * np.log2(nonzero))

    return float(max(0.0, entropy(m) - (entropy(p) + entropy(q)) / 2))  # JS = H(M) - (H(P) + H(Q)) / 2
'''

CHI_BODY = '''\
    expected = base / base.sum() * seen.sum()
    return float(np.sum((seen - expected) ** 2 / expected))
'''

CHI_LOOP = '''\
    total_seen, total_base = seen.sum(), base.sum()
    statistic = 0.0
    for observed, count in zip(seen, base):
        e = count * total_seen / total_base
        statistic += (observed - e) ** 2 / e
    return float(statistic)
'''

CLASSIFY_LABELS_FIRST = '''\
    accuracy = scenario.get("accuracy")
    if accuracy is not None and accuracy["current"] < accuracy["baseline"] - 0.05:
        return {"monitor": "model_quality", "drift": "concept"}
    if any(d > THRESHOLD for d in scenario["feature_distances"].values()):
        return {"monitor": "data_quality", "drift": "data"}
    return {"monitor": "bias_drift", "drift": "prediction"}
'''

LISTING_LOOP = '''\
    keys, token = [], None
    while True:
        page = s3.list_objects_v2(Bucket=bucket, Prefix=capture_prefix,
                                  **({"ContinuationToken": token} if token else {}))
        keys += [item["Key"] for item in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            break
        token = page["NextContinuationToken"]
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        for line in body.splitlines():
            if line.strip():
                record = json.loads(line)["captureData"]["endpointInput"]
                current.extend(csv.reader(io.StringIO(record["data"])))
'''

PAGINATED = '''\
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=capture_prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode("utf-8")
            for line in body.splitlines():
                if line.strip():
                    record = json.loads(line)["captureData"]["endpointInput"]
                    current.extend(csv.reader(io.StringIO(record["data"])))
'''


def replace(old: str, new: str):
    """The reference's exact text ``old`` (once) replaced by ``new``; a no-op once ``old`` is gone."""
    return sub(re.escape(old), lambda _: new, count=1)


KS_2SAMP = "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.ks_2samp.html"
DEEQU = "https://github.com/awslabs/deequ/blob/master/src/main/scala/com/amazon/deequ/analyzers/Distance.scala"
LIST_OBJECTS = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html"

REWRITES = [
    Rewrite("ks-sorted-merge", replace(KS_BODY, KS_MERGE),
            f"the KS statistic by a merge of the sorted samples, ties passed as a group: {KS_2SAMP}"),
    Rewrite("ks-counting", replace(KS_BODY, KS_COUNTING),
            "F(x) = count(v <= x) / n evaluated at every distinct pooled value is the same step function"),
    Rewrite("linf-python-loop", replace(LINF_BODY, LINF_LOOP),
            f"Deequ's categorical L-infinity is this loop over the union of keys: {DEEQU}"),
    Rewrite("js-natural-log", in_function("js_divergence", sub(r"np\.log2\(([^()]*)\)", r"(np.log(\1) / np.log(2))")),
            "log2(x) = ln(x) / ln(2)"),
    Rewrite("js-entropy-form", replace(JS_KL, JS_ENTROPY),
            "JS(P, Q) = H(M) - (H(P) + H(Q)) / 2 with M = (P + Q) / 2, the Shannon entropies in bits"),
    Rewrite("chi-squared-loop", replace(CHI_BODY, CHI_LOOP), f"the same sum over the baseline's categories: {DEEQU}"),
    Rewrite("classify-labels-first", in_function("classify", replace(
        '''    if max(scenario["feature_distances"].values()) > THRESHOLD:
        return {"drift": "data", "monitor": "data_quality"}  # inputs moved away from the baseline
    accuracy = scenario.get("accuracy")
    if accuracy and accuracy["baseline"] - accuracy["current"] > 0.05:
        return {"drift": "concept", "monitor": "model_quality"}  # same inputs, wrong more often
    return {"drift": "prediction", "monitor": "bias_drift"}  # outputs moved, no labels to judge yet
''', CLASSIFY_LABELS_FIRST)),
            "each incident has exactly one abnormal symptom, so the order of the questions does not matter; "
            "key order in a dict does not either"),
    Rewrite("listing-loop", replace(PAGINATED, LISTING_LOOP),
            f"ListObjectsV2 by hand: ContinuationToken until IsTruncated is false, as the paginator does: "
            f"{LIST_OBJECTS}"),
    Rewrite("counts-by-dict", sub(r"b, c = Counter\(base_column\), Counter\(current_column\)",
                                  "b, c = {}, {}\n            for v in base_column:\n"
                                  "                b[v] = b.get(v, 0) + 1\n"
                                  "            for v in current_column:\n                c[v] = c.get(v, 0) + 1"),
            "a plain dict of counts is what Counter holds"),
    Rewrite("report-compact", sub(r"json\.dumps\(report, indent=2\)", "json.dumps(report)"),
            "whitespace in JSON means nothing"),
    Rewrite("drifted-sorted", sub(r'report = \{"features": features, "drifted": drifted\}',
                                  'report = {"drifted": sorted(drifted), "features": features}'),
            "the README grades drifted in any order; key order means nothing in JSON"),
]

MUTATIONS = [
    Rewrite("ks-rank-as-cdf", replace('    cdf_a = np.searchsorted(a, points, side="right") / a.size',
                                      '    cdf_a = np.concatenate([np.arange(1, a.size + 1), '
                                      'np.searchsorted(a, b, side="right")]) / a.size'),
            "the k-th smallest baseline value gets CDF k/n, wrong with ties", frozenset({"ks-statistic"})),
    Rewrite("ks-mean-gap", replace("return float(np.max(np.abs(cdf_a - cdf_b)))",
                                   "return float(np.mean(np.abs(cdf_a - cdf_b)))"),
            "the mean gap between the CDFs, not the largest", frozenset({"ks-statistic", "drift-report"})),
    Rewrite("linf-baseline-categories", replace("    categories = sorted(set(baseline_counts) | set(current_counts))",
                                                "    categories = sorted(baseline_counts)"),
            "categories new in production are ignored", frozenset({"linf-distance"})),
    Rewrite("linf-l1", replace("return float(np.max(np.abs(p - q)))", "return float(np.sum(np.abs(p - q)))"),
            "the L1 distance, not L-infinity", frozenset({"linf-distance", "drift-report"})),
    Rewrite("js-in-nats", replace("np.log2(x[x > 0] / m[x > 0])", "np.log(x[x > 0] / m[x > 0])"),
            "natural logarithm: nats, not bits", frozenset({"js-divergence", "drift-report"})),
    Rewrite("js-shared-support", replace("    bins = sorted(set(baseline_counts).union(current_counts))",
                                         "    bins = sorted(k for k in set(baseline_counts) & set(current_counts)\n"
                                         "                  if baseline_counts[k] and current_counts[k])"),
            "empty bins dropped, so each side is normalised over the shared bins only",
            frozenset({"js-divergence"})),
    Rewrite("chi-total-with-new", replace("    expected = base / base.sum() * seen.sum()",
                                          "    expected = base / base.sum() * sum(current_counts.values())"),
            "expected counts scaled to every current record, new categories included", frozenset({"chi-squared"})),
    Rewrite("report-skips-first-line", replace("            for line in body.splitlines():",
                                               "            for line in body.splitlines()[1:]:"),
            "the first record of each capture file is taken for a header", frozenset({"drift-report"})),
    Rewrite("report-one-object", replace('        for item in page.get("Contents", []):',
                                         '        for item in page.get("Contents", [])[:1]:'),
            "only the first capture object is read", frozenset({"drift-report"})),
    Rewrite("threshold-0.2", replace("        if distance > THRESHOLD:", "        if distance > 2 * THRESHOLD:"),
            "the moderate drift goes unreported", frozenset({"drifted-features"})),
    Rewrite("concept-to-data-quality", replace('return {"drift": "concept", "monitor": "model_quality"}',
                                               'return {"drift": "concept", "monitor": "data_quality"}'),
            "the data quality monitor never sees labels", frozenset({"drift-named"})),
    Rewrite("prediction-to-attribution", replace('return {"drift": "prediction", "monitor": "bias_drift"}',
                                                 'return {"drift": "prediction", "monitor": '
                                                 '"feature_attribution_drift"}'),
            "feature attribution drift watches SHAP values, not the predictions' distribution",
            frozenset({"drift-named"})),
]
