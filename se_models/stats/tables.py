"""Ablation tables: what switching gates off cost per row, saved and read as JSON, and their arithmetic (drop and
noise in points). No torch: findings and plots read these."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

MODE_LABELS = {"identity": "s = 1 (gates forced open)", "mean": "mean gate (no input dependence)",
               "shuffle": "another image's gates"}


@dataclass
class AblationRow:
    label: str
    blocks: list[str]
    top1: float
    top5: float | None
    changed: float  # share of images whose top-1 prediction differs from the baseline's


@dataclass
class AblationTable:
    """One mode's ablation over one image set: the baseline and every row."""
    model: str
    data: str
    mode: str
    images: int
    baseline: dict            # {"top1", "top5"}
    rows: list[AblationRow]
    mean_source: str | None = None  # where the mean gates came from (mode mean)
    weights: str = "trained"
    skipped: list[str] = field(default_factory=list)

    def row(self, label: str) -> AblationRow:
        return next(r for r in self.rows if r.label == label)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AblationTable:
        return cls(**{**d, "rows": [AblationRow(**r) for r in d["rows"]]})


def save_tables(tables: dict[str, AblationTable], path: str | Path) -> None:
    Path(path).write_text(json.dumps({m: t.to_dict() for m, t in tables.items()}, indent=1) + "\n")


def load_tables(path: str | Path) -> dict[str, AblationTable]:
    return {m: AblationTable.from_dict(d) for m, d in json.loads(Path(path).read_text()).items()}


def drop_pp(table: AblationTable, row: AblationRow) -> float:
    """Top-1 lost by a row against the baseline, in percentage points (positive = worse)."""
    return (table.baseline["top1"] - row.top1) * 100


def noise_pp(table: AblationTable, row: AblationRow) -> float:
    """Two standard errors of a paired accuracy difference, in points: only images whose prediction changed can
    move it, so SE <= sqrt(changed / n)."""
    return 200 * math.sqrt(max(row.changed, 1 / table.images) / table.images)


def summary_rows(table: AblationTable) -> list[AblationRow]:
    """The stage rows and `all blocks` (not the per-block rows)."""
    return [r for r in table.rows if r.label.startswith("stage ") or r.label == "all blocks"]
