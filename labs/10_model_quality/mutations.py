"""Lab 10's wrong solutions: for every check, text edits that turn the reference (``solution.py``) into a
solution that fails that check and no other. Not shipped in the learner edition: the edits quote the
reference."""

MUTATIONS = {
    # Every label in one folder, the first hour's: each run still finds them all, but the layout says
    # nothing about when labels arrived.
    "ground-truth": [('by_hour[collected.strftime("%Y/%m/%d/%H")]',
                      'by_hour[min(x["collected_at"] for x in labels)[:13].replace("-", "/").replace("T", "/")]')],
    # The reports go to a folder of the learner's choosing, not where the team looks.
    "monitor-config": [('"S3Uri": output_uri, "LocalPath"', '"S3Uri": f"{output_uri}/model-quality", "LocalPath"')],
    # Each run analyses the hour before the previous one: the first run finds no data.
    "confirmed-hours": [('"ProbabilityThresholdAttribute": 0.3,\n',
                         '"ProbabilityThresholdAttribute": 0.3,\n'
                         '                "StartTimeOffset": "-PT2H",\n                "EndTimeOffset": "-PT1H",\n')],
    # No baseline: the runs compute the metrics but have nothing to compare them with.
    "drift-caught": [('        ModelQualityBaselineConfig={"ConstraintsResource": {"S3Uri": constraints_uri}},\n', "")],
    # The sum of one f1 an hour is the same number, but not an f1.
    "alarm-metric": [('Statistic="Average"', 'Statistic="Sum"')],
    # Five-minute periods: eleven of every twelve are empty.
    "alarm-behaviour": [("Period=3600,", "Period=300,")],
    # Thresholds from the run's own suggested constraints (its values): every difference is 0.
    "explain": [('thresholds = read(constraints_uri)["binary_classification_constraints"]',
                 'thresholds = read(f"{folder}/constraints.json")["binary_classification_constraints"]')],
}
