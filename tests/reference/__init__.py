"""Real AWS files the simulators are measured against: a copy, unchanged, of the workplace's
``shared/reference`` (README.md there says where each file comes from; events/SOURCES.md gives
repository, path, commit and licence of every event sample). Kept in the repository so that a clean
checkout (CI) tests against them too.
"""

from pathlib import Path

REFERENCE = Path(__file__).resolve().parent
