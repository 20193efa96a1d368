"""Runs the learner's code in a separate, locked-down process.

The grader (trusted) never imports learner code. ``runner.LearnerProcess`` (``run_learner`` for one
shot) starts ``child.py`` in a fresh process that can reach only the lab's moto server, with time,
memory and output caps, and reports what each learner function did as untrusted *events* (used only
to explain failures).
"""
