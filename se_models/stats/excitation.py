"""Class-wise excitation statistics (paper Fig. 6/7), the class-specificity metrics of docs/statistics.md, verdicts."""
from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch.utils.data import DataLoader

from se_models.data.datasets import ImageItems, as_source, collate_readable
from se_models.errors import DatasetError, UnknownClassError
from se_models.hooks.naming import stage_index
from se_models.hooks.recorder import SERecorder
from se_models.stats import allocator, distributed
from se_models.stats import significance as sig
from se_models.stats.streaming import StreamingStats, sample_cap

if TYPE_CHECKING:  # types only: statistics never load models themselves
    from collections.abc import Callable

    from se_models.models.registry import LoadedModel

# the per-block class-specificity metrics, in the order every export (CSV, table) shows them
METRICS = ("divergence", "divergence_ci", "divergence_null", "divergence_p", "above_chance", "learned",
           "class_specific", "divergence_corrected", "eta_squared", "probe_accuracy", "probe_ci", "probe_null",
           "chance", "mean", "std", "channel_spread", "saturated_high", "saturated_low", "channels")
PAIRS = {"divergence_ci": ("low", "high"), "probe_ci": ("low", "high"),
         "divergence_null": ("mean", "p99")}  # list-valued metrics become two CSV columns


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
    """Statistics of one SE block's excitations s over a labelled image set, with their chance baselines."""
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
    # chance baselines, intervals and the verdict (None where they cannot be computed, e.g. a subset of classes)
    divergence_corrected: float | None = None  # sqrt(max(0, D^2 - E_null[D^2])), E_null exact over all images
    divergence_null: list[float] | None = None  # [mean, 99th percentile] of D under label shuffles
    divergence_p: float | None = None          # permutation p-value (on the sample of single images)
    divergence_ci: list[float] | None = None   # 95 % bootstrap interval, images resampled within classes
    divergence_boot: list[float] | None = None  # the bootstrap replicates (joint over blocks: ratio intervals)
    probe_ci: list[float] | None = None        # 95 % interval of the held-out accuracy (test items resampled)
    probe_null: float | None = None            # the probe's accuracy on shuffled labels
    # the verdicts (significance.is_above_chance / is_learned), set by ExcitationStats.judged() from the numbers above
    above_chance: bool | None = None           # divergence_p < ALPHA: the labels explain more than shuffled ones
    learned: bool | None = None                # above chance and interval above the untrained control's; None for
                                               # random weights (and control blocks) and where no control was measured
    class_specific: bool | None = None         # = learned, kept for readers of older JSON


@dataclass
class ExcitationStats:
    """Per-block statistics of one model over one image set, with an optional untrained control."""
    model: str
    weights: str
    data: str
    classes: list[str]
    per_class: int | None              # images per class asked for (None = all)
    counts: dict[str, int]             # images per class used
    blocks: list[BlockStats]
    control: list[BlockStats] | None = None
    skipped: list[str] = field(default_factory=list)  # unreadable files, with the reason
    sample_counts: dict[str, int] = field(default_factory=dict)  # images per class in the single-image sample
    permutations: int = 0
    bootstrap: int = 0
    processes: int = 1                 # processes whose images were merged (torchrun)

    def block(self, name: str, control: bool = False) -> BlockStats:
        for b in (self.control or []) if control else self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"no statistics for block {name!r}")

    def shortfall(self) -> dict[str, int]:
        """Classes that got fewer images than asked for: class -> images used."""
        if not self.per_class:
            return {}
        return {c: n for c, n in self.counts.items() if n < self.per_class}

    @property
    def weak(self) -> bool:
        """Fewer than WEAK_PER_CLASS images in some class: intervals are wide and real differences can be missed."""
        return min(self.counts.values()) < sig.WEAK_PER_CLASS

    def sample_notes(self) -> list[str]:
        """What the user should know about the sample size, in sentences (the CLI and the app print them)."""
        notes = []
        short = self.shortfall()
        if short:
            used = ", ".join(f"{c} {n}" for c, n in short.items())
            notes.append(f"Asked for {self.per_class} images per class; fewer exist (or could be read), so these "
                         f"were used: {used}.")
        if self.weak:
            notes.append(f"Only {min(self.counts.values())} images in the smallest class (fewer than "
                         f"{sig.WEAK_PER_CLASS}): the verdicts are weak, since with so few images a real difference "
                         "between classes is easily missed and the intervals are wide.")
        return notes

    def subset(self, classes: list[str]) -> ExcitationStats:
        """The same statistics restricted to some classes. Divergence (and its bias correction) is recomputed
        from the class means and stds; eta^2, the probe, p-values and intervals need single images: None."""
        unknown = [c for c in classes if c not in self.classes]
        if unknown:
            raise UnknownClassError(f"unknown class(es) {unknown}; the statistics have {self.classes}")
        counts = np.array([self.counts[c] for c in classes], float)

        def cut(b: BlockStats) -> BlockStats:
            mu = np.array([b.class_means[c] for c in classes])
            sd = np.array([b.class_stds[c] for c in classes])
            div = float(sig.divergence(mu))
            s1, s2 = mu * counts[:, None], (sd ** 2 + mu ** 2) * counts[:, None]
            corrected = (float(np.sqrt(max(0.0, div ** 2 - sig.null_divergence_sq(counts, s1, s2))))
                         if len(classes) > 1 else None)
            return replace(b, class_means={c: b.class_means[c] for c in classes},
                           class_stds={c: b.class_stds[c] for c in classes}, divergence=div,
                           all_mean=mu.mean(0).round(5).tolist(), eta_squared=None, probe_accuracy=None,
                           chance=1 / len(classes), divergence_corrected=corrected, divergence_null=None,
                           divergence_p=None, divergence_ci=None, divergence_boot=None, probe_ci=None,
                           probe_null=None, above_chance=None, learned=None, class_specific=None)
        return replace(self, classes=list(classes), counts={c: self.counts[c] for c in classes},
                       blocks=[cut(b) for b in self.blocks],
                       control=[cut(b) for b in self.control] if self.control else None)

    def ratio(self, num: str, den: str, den_control: bool = False) -> tuple[float, list[float] | None]:
        """Divergence of block `num` over that of block `den` (of the control with den_control), with its 95 %
        bootstrap interval (None without replicates). Both come from the same resampled images."""
        a, b = self.block(num), self.block(den, control=den_control)
        value = a.divergence / b.divergence if b.divergence > 0 else float("inf")
        ci = sig.ratio_interval(a.divergence_boot, b.divergence_boot) if a.divergence_boot and b.divergence_boot \
            else None
        return value, ci

    @property
    def untrained(self) -> bool:
        """Statistics of random weights: nothing in them can be learned."""
        return self.weights == "random"

    def control_only(self) -> ExcitationStats | None:
        """The untrained control's statistics on their own, as statistics of random weights (None without a
        control): what the untrained network shows, never mixed with the trained one's numbers."""
        if not self.control:
            return None
        return replace(self, weights="random", blocks=self.control, control=None).judged()

    def judged(self) -> ExcitationStats:
        """The same statistics with every block's verdicts derived from its numbers, in one place: above_chance
        from the permutation p; learned from p, the interval and the control block's interval (None for random
        weights, for the control's own blocks and without a control); class_specific = learned."""
        control = {b.name: b for b in self.control or []}

        def judge(b: BlockStats, ctrl: BlockStats | None, own_control: bool) -> BlockStats:
            learned = None if self.untrained or own_control else sig.is_learned(
                b.divergence_p, b.divergence_ci, ctrl.divergence_ci if ctrl else None)
            return replace(b, above_chance=sig.is_above_chance(b.divergence_p), learned=learned,
                           class_specific=learned)
        return replace(self, blocks=[judge(b, control.get(b.name), False) for b in self.blocks],
                       control=[judge(b, None, True) for b in self.control] if self.control else None)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        """Everything, as JSON that ExcitationStats.load reads back (the CLI's --json and the app's download)."""
        return json.dumps({**self.to_dict(), "notes": self.sample_notes()}, indent=1) + "\n"

    def _tagged(self) -> list[tuple[str, list[BlockStats]]]:
        main = "untrained" if self.weights == "random" else "trained"  # a control's statistics shown on their own
        return [(main, self.blocks), ("untrained control", self.control or [])]

    def metrics_rows(self) -> list[dict]:
        """One row per (weights, block): the class-specificity metrics, ready for a table or CSV."""
        rows = []
        for tag, blocks in self._tagged():
            for b in blocks:
                row = {"model": self.model, "weights": tag, "block": b.name}
                for m in METRICS:
                    v = getattr(b, m)
                    if m in PAIRS:  # [low, high] -> two columns
                        row.update({f"{m}_{part}": None if v is None else v[i] for i, part in enumerate(PAIRS[m])})
                    else:
                        row[m] = v
                rows.append(row)
        return rows

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
        """Statistics from their JSON; the verdicts are derived again from the numbers, so JSON written before
        above_chance and learned existed (or with an old class_specific) reads the same as new JSON."""
        d = dict(d)
        known_block = {f.name for f in fields(BlockStats)}
        d["blocks"] = [BlockStats(**{k: v for k, v in b.items() if k in known_block}) for b in d["blocks"]]
        d["control"] = ([BlockStats(**{k: v for k, v in b.items() if k in known_block}) for b in d["control"]]
                        if d.get("control") else None)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known}).judged()

    @classmethod
    def load(cls, path: str | Path) -> ExcitationStats:
        return cls.from_dict(json.loads(Path(path).read_text()))


def class_divergence(s: np.ndarray, y: np.ndarray) -> float:
    """s (N, C), y (N,) -> sqrt(mean over channels of the variance across classes of the class means)."""
    mu = np.stack([s[y == c].mean(0) for c in np.unique(y)])  # (K, C)
    return float(np.sqrt(mu.var(0).mean()))


def eta_squared(s: np.ndarray, y: np.ndarray) -> float:
    """Mean over channels of between-class / total sum of squares (channels with no variation skipped)."""
    classes = np.unique(y)
    y = np.searchsorted(classes, y)
    n = np.bincount(y).astype(float)
    s1 = np.stack([s[y == c].sum(0) for c in range(len(classes))])
    s2 = np.stack([(s[y == c].astype(float) ** 2).sum(0) for c in range(len(classes))])
    return _eta_squared(n, s1, s2)


def _eta_squared(n: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> float:
    """eta^2 from per-class counts (K,) and sums of s and s^2 (K, C)."""
    total = n.sum()
    grand = s1.sum(0) / total
    ss_total = s2.sum(0) - total * grand ** 2
    ss_between = (n[:, None] * (s1 / n[:, None] - grand) ** 2).sum(0)
    ok = ss_total > 1e-12 + 1e-10 * s2.sum(0)  # no variation beyond float64 rounding: a constant channel
    return float((ss_between[ok] / ss_total[ok]).mean()) if ok.any() else 0.0


def probe_accuracy(s: np.ndarray, y: np.ndarray, seed: int = 0) -> float | None:
    """Held-out accuracy of a logistic-regression probe predicting the class from s (stratified 70/30 split);
    None when a class has fewer than 2 images. One split rather than k-fold keeps it cheaper than the forward
    passes; the statistics run it on the bounded sample."""
    classes = np.unique(y)
    if len(classes) < 2 or np.bincount(np.searchsorted(classes, y)).min() < 2:
        return None
    return sig.fit_score(s, y, seed, 0.3)[0]


def _r(v, d: int = 5) -> list[float]:
    return [round(float(x), d) for x in v]  # 5 decimals keep the JSON small


def finish_block(name: str, module: str, acc: StreamingStats, classes: list[str], channels: int, seed: int,
                 n_perm: int, n_boot: int) -> BlockStats:
    """All metrics of one block from the running sums (exact) and the bounded sample (null, intervals, probe); the
    verdicts come later, from ExcitationStats.judged()."""
    sums = acc.sums[name]
    present = np.flatnonzero(acc.counts.numpy() > 0)
    n = acc.counts.numpy()[present]
    s1, s2 = sums.s1.numpy()[present], sums.s2.numpy()[present]
    total, n_ch = n.sum(), s1.shape[1]
    mu = s1 / n[:, None]
    sd = np.sqrt(np.clip(s2 / n[:, None] - mu ** 2, 0, None))
    all_mean = mu.mean(0)
    div = float(sig.divergence(mu))
    e_null = sig.null_divergence_sq(n, s1, s2)
    mean = s1.sum() / (total * n_ch)

    # the sample of single images: labels re-indexed over the present classes
    s_m = acc.sample.vectors(name).astype(np.float64)
    y_m = np.searchsorted(present, acc.sample.labels)
    m = np.bincount(y_m, minlength=len(present)).astype(float)
    obs, null = sig.permutation_null(s_m, y_m, n_perm, np.random.default_rng(seed))
    p = (1 + int((null >= obs * (1 - 1e-9)).sum())) / (1 + n_perm)
    e_sample = sig.null_divergence_sq(m, np.stack([s_m[y_m == c].sum(0) for c in range(len(present))]),
                                      np.stack([(s_m[y_m == c] ** 2).sum(0) for c in range(len(present))]))
    scale = np.sqrt(e_null / e_sample) if e_sample > 0 else 1.0  # the sample's null, at the size of all images
    boot = sig.bootstrap_divergence(s_m, y_m, sig.bootstrap_weights(y_m, n_boot, np.random.default_rng(seed + 1)),
                                    mu, n)
    # resampling with replacement inflates a spread statistic (D* sits above D on average): recentre the replicates
    # on the estimate, so the interval measures the spread of D without that extra bias
    boot = np.clip(boot - (boot.mean() - div), 0, None)
    ci = sig.percentile_interval(boot)
    pr = sig.probe(s_m, y_m, seed, rng=np.random.default_rng(seed + 2))

    rng = np.random.default_rng(seed)
    sampled = sorted(rng.choice(n_ch, channels, replace=False).tolist()) if n_ch > channels else list(range(n_ch))
    si = stage_index(name)
    names = [classes[c] for c in present]
    return BlockStats(
        name=name, module=module, stage=si[0] if si else None, index=si[1] if si else None, channels=n_ch,
        divergence=div, eta_squared=_eta_squared(n, s1, s2),
        probe_accuracy=pr and pr["accuracy"], chance=1 / len(present),
        mean=float(mean), std=float(np.sqrt(max(0.0, s2.sum() / (total * n_ch) - mean ** 2))),
        channel_spread=float(all_mean.std()),
        saturated_high=float(sums.sat[0] / (total * n_ch)), saturated_low=float(sums.sat[1] / (total * n_ch)),
        sampled_channels=sampled, all_mean=_r(all_mean),
        class_means=dict(zip(names, map(_r, mu))), class_stds=dict(zip(names, map(_r, sd))),
        divergence_corrected=float(np.sqrt(max(0.0, div ** 2 - e_null))),
        divergence_null=_r([null.mean() * scale, np.percentile(null, 99) * scale], 6),
        divergence_p=round(p, 5), divergence_ci=_r(ci, 6), divergence_boot=_r(boot, 6),
        probe_ci=pr and _r(pr["ci"], 4), probe_null=pr and round(pr["null"], 4))


def block_stats_from_arrays(excitation: dict[str, np.ndarray], y: np.ndarray, classes: list[str], seed: int = 0,
                            channels: int = 50, permutations: int = sig.N_PERMUTATIONS,
                            bootstrap: int = sig.N_BOOTSTRAP, control: list[BlockStats] | None = None,
                            weights: str = "trained") -> list[BlockStats]:
    """The same per-block statistics, judged, from excitations already in memory: block -> s (N, C), labels y (N,);
    control: the untrained control's blocks (their intervals decide `learned`)."""
    gates = sum(s.shape[1] for s in excitation.values())
    acc = StreamingStats(len(classes), sample_cap(len(classes), gates), seed)
    acc.add({b: torch.as_tensor(s, dtype=torch.float32) for b, s in excitation.items()},
            torch.as_tensor(y, dtype=torch.long), np.arange(len(y)))
    blocks = [finish_block(b, b, acc, classes, channels, seed, permutations, bootstrap) for b in excitation]
    judged = ExcitationStats("arrays", weights, "arrays", list(classes), None, {}, blocks, control=control).judged()
    return judged.blocks


def select_per_class(targets: list[int], wanted: list[int], per_class: int | None, seed: int) -> list[int]:
    """Indices of up to per_class seeded random images of each wanted class (all with None), in class order."""
    rng = np.random.default_rng(seed)
    t = np.asarray(targets)
    picks = []
    for c in wanted:
        idx = np.flatnonzero(t == c)
        picks.extend(sorted(rng.permutation(idx)[:per_class].tolist()) if per_class else idx.tolist())
    return picks


def collect(models: list, source, indices: list[int], label_of: np.ndarray, n_classes: int, cap: int, seed: int,
            batch_size: int = 128, workers: int = 0, progress=None) -> tuple[list[StreamingStats], int, list[str]]:
    """Forward passes under SERecorder -> (per model: streaming statistics; images read; unreadable files).

    A DataLoader decodes batches (in `workers` processes) while the models run; each batch is fed to every model
    (the trained one and its control). Only each hooked forward pass holds a model's lock, so other users of a
    shared model are not blocked for the whole computation. Memory: the running sums and the bounded sample."""
    allocator.fix_mmap_threshold()  # peak memory flat in the number of images
    accs = [StreamingStats(n_classes, cap, seed) for _ in models]
    loader = DataLoader(ImageItems(source, indices), batch_size=batch_size, num_workers=workers,
                        collate_fn=collate_readable,
                        persistent_workers=False)
    kept, skipped, done = 0, [], 0
    for idx, x, errors in loader:
        skipped += errors
        done += len(idx) + len(errors)
        if x is not None:
            y = torch.from_numpy(label_of[idx.numpy()])
            for m, acc in zip(models, accs):
                device = next(m.model.parameters()).device
                # inference mode for the pass only: the running sums must stay ordinary tensors (merged in place)
                with m.lock, SERecorder(m) as rec, torch.inference_mode():
                    m.model(x.to(device, non_blocking=True))
                acc.add({b: s.float().cpu() for b, s in rec.excitation.items()}, y, idx.numpy())
            kept += len(idx)
        if progress:
            progress(done, len(indices))
    return accs, kept, skipped


def excitation_stats(loaded: LoadedModel, dataset, classes: list[str] | None = None, per_class: int | None = 50,
                     channels: int = 50, seed: int = 0, progress: Callable[[int, int], None] | None = None,
                     control: LoadedModel | None = None, batch_size: int = 128,
                     workers: int = 0, permutations: int = sig.N_PERMUTATIONS,
                     bootstrap: int = sig.N_BOOTSTRAP) -> ExcitationStats:
    """The paper's protocol over `per_class` images of each class (None = all), every SE block, with chance
    baselines, intervals and a class-specificity verdict per block.

    dataset: "bundled", a folder (DIR/<class>/<image>), an ArrayDataset or a torchvision dataset.
    control: the untrained control (a LoadedModel with random weights), measured on the same images.
    Under torch.distributed (torchrun) every process reads its share of the images and the sums are merged."""
    source = as_source(dataset, loaded)
    names = classes or source.classes
    unknown = [c for c in names if c not in source.classes]
    if unknown:
        # the missing classes only: the data may be a user's folder, whose other sub-folders are not theirs to list
        raise UnknownClassError(f"unknown class(es) {unknown}: not among the {len(source.classes)} classes of the "
                                "data")
    if len(set(names)) < 2:
        raise DatasetError(f"class-specificity needs at least 2 classes; {source.description} gives "
                           f"{len(set(names))} ({', '.join(names) or 'none'}): add a class folder or choose more "
                           "classes")
    wanted = [source.classes.index(c) for c in names]
    indices = select_per_class(source.targets, wanted, per_class, seed)
    if not indices:
        raise DatasetError(f"no images of classes {names} in {source.description}")
    if control is True:
        raise TypeError("control= takes the untrained control model: load_model(name, weights='random')")
    models = [loaded] + ([control] if control else [])
    gates = sum(_channels(loaded))
    cap = sample_cap(len(names), gates * len(models))
    label_of = np.full(len(source.classes), -1, np.int64)
    label_of[wanted] = np.arange(len(wanted))
    targets = np.asarray(source.targets)
    rank, world = distributed.rank_and_world()
    mine = indices[rank::world]
    accs, kept, skipped = collect(models, source, mine, label_of[targets], len(names), cap, seed, batch_size,
                                  workers, progress)
    if world > 1:
        accs, kept, skipped = distributed.merge(accs, kept, skipped)
    if not kept:
        raise DatasetError(f"none of the {len(indices)} selected images could be read, e.g. {skipped[0]}")
    counts = accs[0].counts.numpy()
    if (counts > 0).sum() < 2:
        raise DatasetError(f"images of only one class could be read ({names[int(np.argmax(counts))]}); "
                           f"class-specificity needs at least 2 classes")
    for acc in accs:
        acc.sample.finish()  # prune once here: the threads below then only read the sample
    per_model = []
    # The blocks are finished side by side: the probes' fits and the resampling spend part of their time in numpy
    # and sklearn code that releases the GIL; each block has its own seeded generators, so the order does not matter.
    # BLAS runs single-threaded meanwhile (threadpoolctl, which scikit-learn depends on): these matrices are small,
    # and a multithreaded OpenBLAS spends more on waking and syncing its threads than on the products.
    workers = max(1, min(len(loaded.se_blocks), torch.get_num_threads()))
    sig.probe_tools()  # scikit-learn imported first, so that its BLAS is limited too
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=workers) as pool:
        for m, acc in zip(models, accs):
            per_model.append(list(pool.map(
                lambda b, m=m, acc=acc: finish_block(b, m.se_blocks[b], acc, names, channels, seed, permutations,
                                                     bootstrap),
                [b for b in m.se_blocks if b in acc.sums])))
    blocks, control_blocks = per_model[0], per_model[1] if len(per_model) > 1 else None
    present = [c for c in range(len(names)) if counts[c] > 0]
    sample_counts = np.bincount(accs[0].sample.labels, minlength=len(names))
    return ExcitationStats(loaded.name, loaded.weights, source.description, [names[c] for c in present], per_class,
                           {names[c]: int(counts[c]) for c in present}, blocks, control=control_blocks,
                           skipped=skipped, sample_counts={names[c]: int(sample_counts[c]) for c in present},
                           permutations=permutations, bootstrap=bootstrap, processes=world).judged()


def _channels(loaded) -> list[int]:
    """Gates per attention block, from one forward pass of a blank image at the model's input size: every kind's
    count, where parameters do not tell it (an ECA module's 1-D convolution does not know how many channels it
    slides over). It only sizes the sample."""
    x = torch.zeros(1, *loaded.input_size, device=loaded.device)
    with SERecorder(loaded) as rec, torch.inference_mode():
        loaded.model(x)
    return [rec.excitation[b].shape[1] for b in loaded.se_blocks]


def reference_stats(loaded: LoadedModel, dataset, control: LoadedModel, progress: Callable[[int, int], None] | None
                    = None, workers: int = 0) -> ExcitationStats:
    """The reference protocol, one definition for `python -m se_models reference` and every epoch of a training
    run: every image of the data (per_class=None), the untrained control on the same images, the default seed,
    channels, permutations and bootstrap. Two calls on the same weights and images give the same statistics."""
    return excitation_stats(loaded, dataset, per_class=None, progress=progress, control=control, workers=workers)
