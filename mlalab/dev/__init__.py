"""Maintainer tools for the lab catalogue (``mlalab dev ...``): they check, scaffold and document
labs; nothing here runs while a learner's lab is graded."""
