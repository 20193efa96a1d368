"""The simulators' engines: pure Python models of how AWS decides things (IAM policy evaluation,
CloudWatch alarm evaluation, ...). They import nothing from moto and keep no global state, so they
are tested alone (``tests/engines/``) and used three ways: by the checks that grade labs, by the
moto wire layer in ``fixtures/moto_ext/`` (which serves them as AWS APIs), and by the learner tools
of the CLI (``mlalab iam-simulate``)."""
