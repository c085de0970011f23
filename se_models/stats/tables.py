"""Ablation tables: what switching gates off cost per row, saved and read as JSON, and their arithmetic (drop and
noise in points). No torch: findings and plots read these."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

MODE_LABELS = {"identity": "s = 1 (gates forced open)", "mean": "mean gate (no input dependence)",
               "shuffle": "another image's gates", "transplant": "another class's mean gates"}
ACCURACY_MODES = ("identity", "mean", "shuffle")  # the modes whose table is read as a change of accuracy
CONTROL_SUFFIX = "_control"  # a stored table of the untrained control: "transplant_control"
TRANSPLANT_FIELDS = ("moved", "moved_ci", "kept", "kept_ci", "moved_control", "moved_control_ci", "kept_control",
                     "kept_control_ci")  # an AblationRow's columns that only a transplant fills
INTERVAL = ("95 % Wilson score interval with n = the images, not the (image, class) pairs: the transplants of one "
            "image into every other class are not independent, so the image is the unit; never of zero width at "
            "0 or 1, where a normal interval would be")


@dataclass
class AblationRow:
    label: str
    blocks: list[str]
    top1: float
    top5: float | None
    changed: float  # share of images (transplant: of (image, class) pairs) whose top-1 differs from the baseline's
    # transplant only: shares of (image, donor class B) pairs, each with its 95 % interval (INTERVAL)
    moved: float | None = None            # now predicted as B, with B's class-mean gates in the row's blocks
    kept: float | None = None             # still predicted as before
    moved_control: float | None = None    # predicted as B with the image's own class-mean gates (the control)
    kept_control: float | None = None     # images still predicted as before with their own class-mean gates
    moved_ci: list[float] | None = None
    kept_ci: list[float] | None = None
    moved_control_ci: list[float] | None = None
    kept_control_ci: list[float] | None = None

    @property
    def moves(self) -> bool | None:
        """Transplant: whether B's gates move predictions to B more than the image's own class gates do (the two
        intervals apart); None for other modes."""
        if self.moved_ci is None or self.moved_control_ci is None:
            return None
        return self.moved_ci[0] > self.moved_control_ci[1]


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
    donors: int | None = None  # transplant: donor classes per image (every other class, or a seeded sample)
    interval: str | None = None  # transplant: which interval the *_ci fields are, and why

    def row(self, label: str) -> AblationRow:
        return next(r for r in self.rows if r.label == label)

    def to_dict(self) -> dict:
        """The table as JSON-ready data; the transplant's columns only in a transplant table."""
        d = asdict(self)
        if self.mode != "transplant":
            for r in d["rows"]:
                for f in TRANSPLANT_FIELDS:
                    r.pop(f)
            d.pop("donors")
            d.pop("interval")
        return d

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


def wilson(share: float, n: int, z: float = 1.96) -> list[float]:
    """The Wilson score interval [low, high] of a share observed over n units (95 % for z = 1.96).

    Written out because the share here may be fractional (an image counts with the share of its transplants that
    moved), which scipy's binomtest, built on whole counts, does not take."""
    if n <= 0:
        return [0.0, 1.0]
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return [round(max(0.0, centre - half), 5), round(min(1.0, centre + half), 5)]


def accuracy_tables(tables: dict[str, AblationTable]) -> dict[str, AblationTable]:
    """The tables read as a change of accuracy (identity, mean, shuffle): not the transplant's."""
    return {m: t for m, t in tables.items() if m in ACCURACY_MODES}


def summary_rows(table: AblationTable) -> list[AblationRow]:
    """The stage rows and `all blocks` (not the per-block rows)."""
    return [r for r in table.rows if r.label.startswith("stage ") or r.label == "all blocks"]
