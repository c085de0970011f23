"""Class-wise excitation statistics (paper Fig. 6/7) and the class-specificity metrics of science.md."""
from __future__ import annotations

import csv
import io
import json
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .blocks import stage_index
from .data import as_source
from .errors import DatasetError, ImageError, UnknownClassError
from .recorder import SERecorder

if TYPE_CHECKING:  # types only: statistics never load models themselves
    from collections.abc import Callable

    from .registry import LoadedModel

PROBE_MAX_IMAGES = 2000  # a stratified subsample keeps the probe's cost bounded on big test splits
# the per-block class-specificity metrics, in the order every export (CSV, table) shows them
METRICS = ("divergence", "eta_squared", "probe_accuracy", "chance", "mean", "std", "channel_spread",
           "saturated_high", "saturated_low", "channels")


def csv_text(rows: list[dict]) -> str:
    """Rows of equal keys as CSV text with a header ("" for no rows)."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


@dataclass
class BlockStats:
    """Statistics of one SE block's excitations s over a labelled image set."""
    name: str                          # paper name, e.g. SE_4_3
    module: str                        # module path, e.g. layer3.2.se
    stage: int | None
    index: int | None
    channels: int
    divergence: float                  # sqrt(mean_k Var_c(mu_ck)): spread of the class curves, activation units
    eta_squared: float | None          # mean over channels of between-class SS / total SS
    probe_accuracy: float | None       # held-out logistic-regression accuracy predicting the class from s
    chance: float                      # 1 / number of classes
    mean: float                        # over all images and channels
    std: float
    channel_spread: float              # std over channels of the all-class mean: flat plots have ~0
    saturated_high: float              # share of activations > 0.95
    saturated_low: float               # share of activations < 0.05
    sampled_channels: list[int]        # the channels the paper-style plot shows
    all_mean: list[float]              # (C,) mean of the class means: the paper's "all" line
    class_means: dict[str, list[float]]  # class -> (C,)
    class_stds: dict[str, list[float]]   # class -> (C,) spread within the class (Fig. 7)


@dataclass
class ExcitationStats:
    """Per-block statistics of one model over one image set, with an optional untrained control."""
    model: str
    weights: str
    data: str
    classes: list[str]
    per_class: int | None
    counts: dict[str, int]
    blocks: list[BlockStats]
    control: list[BlockStats] | None = None
    skipped: list[str] = field(default_factory=list)  # unreadable files, with the reason

    def block(self, name: str, control: bool = False) -> BlockStats:
        for b in (self.control or []) if control else self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"no statistics for block {name!r}")

    def subset(self, classes: list[str]) -> ExcitationStats:
        """The same statistics restricted to some classes. Divergence is recomputed exactly from the class means;
        eta^2 and the probe need every image's excitation, so they become None."""
        unknown = [c for c in classes if c not in self.classes]
        if unknown:
            raise UnknownClassError(f"unknown class(es) {unknown}; the statistics have {self.classes}")

        def cut(b: BlockStats) -> BlockStats:
            mu = {c: b.class_means[c] for c in classes}
            div = float(np.sqrt(np.var(np.array(list(mu.values())), axis=0).mean()))
            return replace(b, class_means=mu, class_stds={c: b.class_stds[c] for c in classes}, divergence=div,
                           all_mean=np.mean(list(mu.values()), axis=0).round(5).tolist(),
                           eta_squared=None, probe_accuracy=None, chance=1 / len(classes))
        return replace(self, classes=list(classes), counts={c: self.counts[c] for c in classes},
                       blocks=[cut(b) for b in self.blocks],
                       control=[cut(b) for b in self.control] if self.control else None)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        """Everything, as JSON that ExcitationStats.load reads back (the CLI's --json and the app's download)."""
        return json.dumps(self.to_dict(), indent=1) + "\n"

    def _tagged(self) -> list[tuple[str, list[BlockStats]]]:
        main = "untrained" if self.weights == "random" else "trained"  # a control's statistics shown on their own
        return [(main, self.blocks), ("untrained control", self.control or [])]

    def metrics_rows(self) -> list[dict]:
        """One row per (weights, block): the class-specificity metrics, ready for a table or CSV."""
        return [{"model": self.model, "weights": tag, "block": b.name, **{m: getattr(b, m) for m in METRICS}}
                for tag, blocks in self._tagged() for b in blocks]

    def metrics_csv(self) -> str:
        return csv_text(self.metrics_rows())

    def class_means_csv(self) -> str:
        """Long format: weights, block, class, channel, mean, std (the numbers behind Fig. 6 and Fig. 7)."""
        rows = []
        for tag, blocks in self._tagged():
            for b in blocks:
                for cls, mu in b.class_means.items():
                    sd = b.class_stds.get(cls, [None] * len(mu))
                    rows += [{"weights": tag, "block": b.name, "class": cls, "channel": k, "mean": m, "std": s}
                             for k, (m, s) in enumerate(zip(mu, sd))]
        return csv_text(rows)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), separators=(",", ":")) + "\n")

    @classmethod
    def from_dict(cls, d: dict) -> ExcitationStats:
        d = dict(d)
        d["blocks"] = [BlockStats(**b) for b in d["blocks"]]
        d["control"] = [BlockStats(**b) for b in d["control"]] if d.get("control") else None
        return cls(**d)

    @classmethod
    def load(cls, path: str | Path) -> ExcitationStats:
        return cls.from_dict(json.loads(Path(path).read_text()))


def class_divergence(s: np.ndarray, y: np.ndarray) -> float:
    """s (N, C), y (N,) -> sqrt(mean over channels of the variance across classes of the class means)."""
    mu = np.stack([s[y == c].mean(0) for c in np.unique(y)])  # (K, C)
    return float(np.sqrt(mu.var(0).mean()))


def eta_squared(s: np.ndarray, y: np.ndarray) -> float:
    """Mean over channels of between-class / total sum of squares (channels with no variation skipped)."""
    grand = s.mean(0)
    ss_total = ((s - grand) ** 2).sum(0)
    ss_between = sum((y == c).sum() * (s[y == c].mean(0) - grand) ** 2 for c in np.unique(y))
    ok = ss_total > 1e-12
    return float((ss_between[ok] / ss_total[ok]).mean()) if ok.any() else 0.0


def probe_accuracy(s: np.ndarray, y: np.ndarray, seed: int = 0, max_images: int = PROBE_MAX_IMAGES,
                   test_size: float = 0.3) -> float | None:
    """Held-out accuracy of a logistic-regression probe predicting the class from s (stratified 70/30 split).

    One split rather than k-fold cross-validation keeps the probe cheaper than the forward passes.
    None when a class has fewer than 2 images."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    if len(y) > max_images:
        keep = np.concatenate([rng.permutation(np.flatnonzero(y == c))[: max_images // len(classes)] for c in classes])
        s, y = s[keep], y[keep]
    if len(classes) < 2 or np.bincount(y)[classes].min() < 2:
        return None
    n_test = max(len(classes), int(round(test_size * len(y))))
    s_tr, s_te, y_tr, y_te = train_test_split(s, y, test_size=n_test, stratify=y, random_state=seed)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings on tiny sets say nothing useful here
        return float(clf.fit(s_tr, y_tr).score(s_te, y_te))


def block_stats(name: str, module: str, s: np.ndarray, y: np.ndarray, classes: list[str], channels: int,
                seed: int) -> BlockStats:
    """All metrics of one block from its excitations s (N, C) and labels y (N,) indexing `classes`."""
    present = [c for c in range(len(classes)) if (y == c).any()]
    mu = {classes[c]: s[y == c].mean(0) for c in present}
    sd = {classes[c]: s[y == c].std(0) for c in present}
    all_mean = np.mean(list(mu.values()), axis=0)
    n_ch = s.shape[1]
    rng = np.random.default_rng(seed)
    sampled = sorted(rng.choice(n_ch, channels, replace=False).tolist()) if n_ch > channels else list(range(n_ch))
    si = stage_index(name)
    r = lambda v: [round(float(x), 5) for x in v]  # noqa: E731 - 5 decimals keep the JSON small
    return BlockStats(
        name=name, module=module, stage=si[0] if si else None, index=si[1] if si else None, channels=n_ch,
        divergence=class_divergence(s, y), eta_squared=eta_squared(s, y),
        probe_accuracy=probe_accuracy(s, y, seed), chance=1 / len(present),
        mean=float(s.mean()), std=float(s.std()), channel_spread=float(all_mean.std()),
        saturated_high=float((s > 0.95).mean()), saturated_low=float((s < 0.05).mean()),
        sampled_channels=sampled, all_mean=r(all_mean),
        class_means={k: r(v) for k, v in mu.items()}, class_stds={k: r(v) for k, v in sd.items()})


def _select(targets: list[int], wanted: list[int], per_class: int | None, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    t = np.asarray(targets)
    picks = []
    for c in wanted:
        idx = np.flatnonzero(t == c)
        picks.extend(sorted(rng.permutation(idx)[:per_class].tolist()) if per_class else idx.tolist())
    return picks


@torch.inference_mode()
def collect(models: list, source, indices: list[int], batch_size: int = 128, progress=None):
    """Forward passes under SERecorder -> (per model: block -> s (N, C) array; kept indices; skipped files).

    Each batch is decoded once and fed to every model (the trained one and its control). Images are decoded
    outside the models' locks; only each hooked forward pass holds one, so other users of a shared model are
    not blocked for the whole computation."""
    per_model: list[dict[str, list[np.ndarray]]] = [{b: [] for b in m.se_blocks} for m in models]
    kept, skipped = [], []
    for start in range(0, len(indices), batch_size):
        batch, ok = [], []
        for i in indices[start:start + batch_size]:
            try:
                batch.append(source.get(i))
                ok.append(i)
            except ImageError as err:  # one bad file is reported, the rest still count
                skipped.append(str(err))
        if batch:
            x = torch.stack(batch)
            for m, per_block in zip(models, per_model):
                with SERecorder(m) as rec:  # holds m.lock while hooked
                    m.model(x)
                for b, s in rec.excitation.items():
                    per_block[b].append(s.numpy())
            kept.extend(ok)
        if progress:
            progress(min(start + batch_size, len(indices)), len(indices))
    return [{b: np.concatenate(v) for b, v in pb.items() if v} for pb in per_model], kept, skipped


def excitation_stats(loaded: LoadedModel, dataset, classes: list[str] | None = None, per_class: int | None = 50,
                     channels: int = 50, seed: int = 0, progress: Callable[[int, int], None] | None = None,
                     control: LoadedModel | None = None, batch_size: int = 128) -> ExcitationStats:
    """The paper's protocol over `per_class` images of each class (None = all), every SE block.

    dataset: "bundled", a folder (DIR/<class>/<image>), an ArrayDataset or a torchvision dataset.
    control: the untrained model (`load_model(name, weights="random")`) whose same statistics on the same images
    are the baseline; the caller loads it (and may keep it loaded for the next call)."""
    source = as_source(dataset, loaded)
    names = classes or source.classes
    unknown = [c for c in names if c not in source.classes]
    if unknown:
        raise UnknownClassError(f"unknown class(es) {unknown}; the data has {source.classes}")
    wanted = [source.classes.index(c) for c in names]
    indices = _select(source.targets, wanted, per_class, seed)
    if not indices:
        raise DatasetError(f"no images of classes {names} in {source.description}")
    models = [loaded] + ([control] if control is not None else [])
    excites, kept, skipped = collect(models, source, indices, batch_size, progress)
    if not kept:
        raise DatasetError(f"none of the {len(indices)} selected images could be read, e.g. {skipped[0]}")
    y_src = np.asarray(source.targets)[kept]
    y = np.asarray([wanted.index(t) for t in y_src])
    blocks, *control_blocks = ([block_stats(b, m.se_blocks[b], s, y, names, channels, seed) for b, s in ex.items()]
                               for m, ex in zip(models, excites))
    counts = {names[c]: int((y == c).sum()) for c in range(len(names))}
    return ExcitationStats(loaded.name, loaded.weights, source.description, names, per_class, counts, blocks,
                           control=control_blocks[0] if control_blocks else None, skipped=skipped)
