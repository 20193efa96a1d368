"""What a course consists of: the one list used by the learner-edition export, the Gradescope
package, the sandbox (which refuses to let learner code import the grader) and the packaging
(``pyproject.toml``'s package list is checked against it by ``tests/test_catalog.py``)."""

from __future__ import annotations

# The importable packages: the harness, the checks and the scenario builders.
PACKAGES = ("mlalab", "checks", "fixtures")
# Every folder a course needs to grade (labs/ is data: one folder per lab, not a package).
DIRECTORIES = (*PACKAGES, "labs")
# Files at the top of the course.
FILES = ("pyproject.toml", "Makefile", "README.md", "LICENSE", "LICENSE.md", "NOTICE", ".gitignore")
# A lab's files that only the full edition has: the reference, its wrong solutions and its generated
# rewrites all quote the answer.
LAB_PRIVATE_FILES = ("solution.py", "mutations.py", "rewrites.py")
# Packages whose import by learner code is refused (the grader's own code and test machinery).
GRADER_ONLY_IMPORTS = (*PACKAGES, "pytest", "_pytest", "moto")
