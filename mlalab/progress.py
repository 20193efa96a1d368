"""The learner's progress, kept beside their work in ``workspace/.mlalab/progress.json``:
last score per lab (for ``mlalab list``) and how many hints they have seen."""

from __future__ import annotations

import json
import time
from pathlib import Path


class Progress:
    def __init__(self, workspace: Path) -> None:
        self.path = workspace / ".mlalab" / "progress.json"
        try:
            self.data = json.loads(self.path.read_text())
            if not isinstance(self.data, dict):
                raise ValueError
        except (OSError, ValueError):
            self.data = {}
        self.data.setdefault("labs", {})

    def lab(self, lab_id: int) -> dict:
        return self.data["labs"].setdefault(str(lab_id), {})

    def record(self, lab_id: int, score: float, max_score: float) -> None:
        entry = self.lab(lab_id)
        entry.update(score=score, max_score=max_score, passed=score == max_score,
                     graded_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
        entry["ever_passed"] = bool(entry.get("ever_passed")) or score == max_score
        self.save()

    def next_hint(self, lab_id: int) -> int:
        entry = self.lab(lab_id)
        entry["hints_shown"] = entry.get("hints_shown", 0) + 1
        self.save()
        return entry["hints_shown"]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        tmp.replace(self.path)
