"""Lab 09's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. The statistics' mistakes only show on the edge
cases the grader generates (the captured traffic has no ties, and every category on both sides), so
the drift report stays right. Not shipped in the learner edition: the edits quote the reference."""

MUTATIONS = {
    # "The k-th smallest value has CDF k/n": true only without ties inside the baseline.
    "ks-statistic": [('    cdf_a = np.searchsorted(a, points, side="right") / a.size',
                      '    cdf_a = np.concatenate([np.arange(1, a.size + 1), np.searchsorted(a, b, side="right")]) '
                      '/ a.size')],
    # Only the baseline's categories: a category new in production is not compared (nor counted).
    "linf-distance": [("    categories = sorted(set(baseline_counts) | set(current_counts))",
                       "    categories = sorted(baseline_counts)")],
    # Empty bins dropped "to avoid log(0)": the proportions are taken over the shared support only.
    "js-divergence": [("    bins = sorted(set(baseline_counts).union(current_counts))",
                       "    bins = sorted(k for k in set(baseline_counts) & set(current_counts)\n"
                       "                  if baseline_counts[k] and current_counts[k])")],
    # Expected counts scaled to every current record, new categories included.
    "chi-squared": [("    expected = base / base.sum() * seen.sum()",
                     "    expected = base / base.sum() * sum(current_counts.values())")],
    # The first line of each capture file taken for a header: one record per file is lost.
    "drift-report": [("            for line in body.splitlines():",
                      "            for line in body.splitlines()[1:]:")],
    # A threshold of 0.2: the moderately drifted feature goes unreported.
    "drifted-features": [("        if distance > THRESHOLD:", "        if distance > 2 * THRESHOLD:")],
    # Concept drift sent to the data quality monitor, which never sees labels.
    "drift-named": [('        return {"drift": "concept", "monitor": "model_quality"}',
                     '        return {"drift": "concept", "monitor": "data_quality"}')],
}
