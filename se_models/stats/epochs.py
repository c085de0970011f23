"""How the gates learned: one model's reference statistics at every epoch of its training (epoch 0 = the
initialisation), stored as one compact file beside the model, read back as ExcitationStats per epoch."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from se_models.hooks.naming import last_of_each_stage
from se_models.stats.excitation import BlockStats, ExcitationStats

FORMAT = 1  # bumped when the file's layout changes


def replicate_blocks(names: list[str]) -> set[str]:
    """The blocks whose bootstrap replicates an epoch keeps: the end of every stage, the blocks whose ratios the
    readings quote (deepest / first stage, deepest / control). Every other block's 200 replicates are dropped: its
    interval and verdict are stored already, and the replicates are a fifth of a reference file."""
    return set(last_of_each_stage(names))


def compact(stats: ExcitationStats) -> dict:
    """One epoch's statistics as stored: everything but the control (stored once for all epochs) and the
    replicates of blocks outside replicate_blocks."""
    d = stats.to_dict()
    d.pop("control", None)
    d["blocks"] = compact_blocks(d["blocks"])
    return d


def compact_blocks(blocks: list[dict]) -> list[dict]:
    """Block dicts with divergence_boot kept only for replicate_blocks."""
    keep = replicate_blocks([b["name"] for b in blocks])
    return [b if b["name"] in keep else {**b, "divergence_boot": None} for b in blocks]


@dataclass
class Epoch:
    """One epoch's statistics; `stats` has no control of its own (the history holds it)."""
    epoch: int                     # 0 = the initial weights, before any step
    weights: str                   # how the weights were named: a file name, or "random" for epoch 0
    test_accuracy: float | None    # from the training run's own evaluation, where it made one (None for epoch 0)
    stats: ExcitationStats


@dataclass
class EpochHistory:
    """The reference protocol (python -m se_models reference: the whole test split, every image, seed 0) at every
    epoch of one training run, and the untrained control they all compare with (the same network built with seed 0:
    for a seed-0 run, exactly epoch 0's weights)."""
    model: str
    data: str
    control: list[BlockStats]
    epochs: list[Epoch]
    last_is_model: bool = False  # the last epoch's weights are the model's own (its reference statistics then equal
    # the last epoch's): true for train's own file and for `epochs --compute` over the run that made the weights

    @property
    def numbers(self) -> list[int]:
        return [e.epoch for e in self.epochs]

    @property
    def last(self) -> int:
        return self.epochs[-1].epoch

    def at(self, epoch: int) -> ExcitationStats:
        """Epoch `epoch`'s statistics with the control attached: what the Classes view and the readings take.
        KeyError for an epoch the history does not hold."""
        for e in self.epochs:
            if e.epoch == epoch:
                return replace(e.stats, control=self.control)
        raise KeyError(f"no statistics for epoch {epoch}; the history holds epochs {self.numbers}")

    def blocks(self) -> list[str]:
        return [b.name for b in self.epochs[0].stats.blocks]

    def table(self, metric: str = "divergence") -> list[list]:
        """(epochs, blocks) values of one BlockStats field, e.g. divergence or learned: the heat map's matrix."""
        return [[getattr(b, metric) for b in e.stats.blocks] for e in self.epochs]

    def add(self, epoch: Epoch) -> EpochHistory:
        """This history with `epoch` added (one already there of the same number is replaced), in epoch order."""
        kept = [e for e in self.epochs if e.epoch != epoch.epoch]
        return replace(self, epochs=sorted([*kept, epoch], key=lambda e: e.epoch))

    def to_dict(self) -> dict:
        return {"format": FORMAT, "model": self.model, "data": self.data, "last_is_model": self.last_is_model,
                "control": compact_blocks([asdict(b) for b in self.control]),
                "epochs": [{"epoch": e.epoch, "weights": e.weights, "test_accuracy": e.test_accuracy,
                            "stats": compact(e.stats)} for e in self.epochs]}

    def save(self, path: str | Path) -> None:
        """Compact JSON (no indentation): 16 epochs of a 9-block model are about 1.3 MB."""
        path = Path(path)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), separators=(",", ":")) + "\n")
        tmp.replace(path)  # a run stopped mid-write never leaves a broken file

    @classmethod
    def from_dict(cls, d: dict) -> EpochHistory:
        control = ExcitationStats.from_dict({"model": d["model"], "weights": "random", "data": d["data"],
                                             "classes": [], "per_class": None, "counts": {},
                                             "blocks": d["control"]}).blocks
        epochs = [Epoch(e["epoch"], e["weights"], e.get("test_accuracy"),
                        ExcitationStats.from_dict({**e["stats"], "control": d["control"]}))
                  for e in d["epochs"]]
        # verdicts are judged against the control on reading; the epoch keeps no second copy of it
        return cls(d["model"], d["data"], control, [replace(e, stats=replace(e.stats, control=None)) for e in epochs],
                   d.get("last_is_model", False))

    @classmethod
    def load(cls, path: str | Path) -> EpochHistory:
        return cls.from_dict(json.loads(Path(path).read_text()))
