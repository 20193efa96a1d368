"""Lab 07's wrong solutions: for every check, text edits that turn the reference (``solution.py``)
into a solution that fails that check and no other. Not shipped in the learner edition: the edits
quote the reference."""

MUTATIONS = {
    # No content-type header: SageMaker captures the CSV requests base64-encoded, unreadable as CSV.
    "capture-config": [('            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},\n', "")],
    # No customer managed key: captured customer data under the bucket's default encryption only.
    "capture-encrypted": [('            "KmsKeyId": kms_key_arn,\n', "")],
    # An off-by-one past the header: the first customer is never sent.
    "traffic-captured": [("for line in text.splitlines()[1:]:", "for line in text.splitlines()[2:]:")],
    # The baseline lands somewhere the schedule will never look.
    "baseline-job": [('"S3Uri": output_uri, "LocalPath"', '"S3Uri": output_uri + "-draft", "LocalPath"'),
                     ('constraints_uri.removeprefix("s3://").split("/", 1)',
                      'constraints_uri.replace("/constraints.json", "-draft/constraints.json")'
                      '.removeprefix("s3://").split("/", 1)')],
    # The header read as data: _c0.._c5, every feature a String, one row too many.
    "baseline-header": [('json.dumps({"csv": {"header": True}})', 'json.dumps({"csv": {"header": False}})')],
    # The drift threshold read from the wrong place (the categorical one), and the domain unsorted.
    "report": [('distribution["comparison_threshold"]', 'distribution["categorical_comparison_threshold"] / 2')],
}
