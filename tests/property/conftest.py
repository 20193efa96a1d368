"""Loaded before pytest configures Hypothesis, so ``--hypothesis-profile=thorough`` finds the profile
that ``tests/property/__init__.py`` registers (this module's package import runs it)."""

from tests.property import generated_settings  # noqa: F401
