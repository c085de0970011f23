"""Streaming excitation statistics: exact running per-class sums and a bounded per-class sample, mergeable."""
from __future__ import annotations

import numpy as np
import torch

# The sample of single images that the probe, the permutation null and the bootstrap need. Its size depends on the
# number of classes and gates, never on the number of images: at most SAMPLE_PER_CLASS images per class (200: the
# probe's 30 % held-out split then has 60 images a class, a standard error of about 0.02 on its accuracy, and the
# permutation null and bootstrap run in well under a second a block), and at most SAMPLE_FLOATS stored gate values
# over all blocks (16 M float32 = 64 MB), so a 1000-class ImageNet run on SE-ResNet-50 (15 104 gates an image)
# keeps 2 images a class (the floor: the bootstrap needs 2) instead of 200.
SAMPLE_PER_CLASS = 200
SAMPLE_FLOATS = 16_000_000
_NO_KEY = np.iinfo(np.uint64).max


def sample_cap(n_classes: int, gates: int, per_class: int = SAMPLE_PER_CLASS, floats: int = SAMPLE_FLOATS) -> int:
    """Images kept per class, for `gates` excitation values an image over all blocks."""
    return max(2, min(per_class, floats // max(1, n_classes * gates)))


def image_keys(index: np.ndarray, seed: int) -> np.ndarray:
    """(N,) image indices -> (N,) uint64 pseudo-random priorities (splitmix64 of seed and index).

    Hand-written because numpy has no stateless keyed hash: the sample is the `cap` lowest keys of each class, so it
    depends on which images were seen, not on their order or on the process that saw them, and the samples of
    several processes merge into exactly the single-process sample."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = np.asarray(index, dtype=np.uint64) * golden + np.uint64(seed) * np.uint64(0xD1B54A32D192ED03) + golden
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class ClassSample:
    """A uniform random sample without replacement of at most `cap` images per class: keys, labels, image indices
    and, per block, their excitation vectors (float32). Kept sorted by (label, index) after `finish()`."""

    def __init__(self, n_classes: int, cap: int):
        self.n_classes, self.cap = n_classes, cap
        self.threshold = np.full(n_classes, _NO_KEY, np.uint64)  # a class's cap-th lowest key once it is full
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []
        self.pending = 0

    def add(self, keys: np.ndarray, labels: np.ndarray, index: np.ndarray, vectors: dict[str, np.ndarray]) -> None:
        ok = keys < self.threshold[labels]  # images that can still enter their class's sample
        if ok.any():
            self.parts.append((keys[ok], labels[ok], index[ok], {b: v[ok] for b, v in vectors.items()}))
            self.pending += int(ok.sum())
            if self.pending > self.cap * self.n_classes:  # prune now and then: amortised O(1) per image
                self.finish()

    def finish(self) -> ClassSample:
        """Keep the `cap` lowest keys of each class; order by (label, index). Already finished (one part, nothing
        added since): nothing to do, so readers (the statistics' threads) never rewrite the sample."""
        if not self.parts or (len(self.parts) == 1 and self.pending == 0):
            return self
        keys, labels, index = (np.concatenate([p[i] for p in self.parts]) for i in range(3))
        order = np.lexsort((keys, labels))
        start = np.searchsorted(labels[order], np.arange(self.n_classes))
        rank = np.arange(len(order)) - start[labels[order]]
        keep = order[rank < self.cap]
        keep = keep[np.lexsort((index[keep], labels[keep]))]
        vectors = {b: np.concatenate([p[3][b] for p in self.parts])[keep] for b in self.parts[0][3]}
        self.parts = [(keys[keep], labels[keep], index[keep], vectors)]
        self.pending = 0
        counts = np.bincount(labels[keep], minlength=self.n_classes)
        for c in np.flatnonzero(counts >= self.cap):
            self.threshold[c] = keys[keep][labels[keep] == c].max()
        return self

    def merge(self, other: ClassSample) -> ClassSample:
        self.parts += other.parts
        self.pending += other.pending + 1  # always finish: the other's parts need not be pruned or ordered
        return self.finish()

    @property
    def labels(self) -> np.ndarray:
        return self.finish().parts[0][1] if self.parts else np.zeros(0, np.int64)

    @property
    def index(self) -> np.ndarray:
        return self.finish().parts[0][2] if self.parts else np.zeros(0, np.int64)

    def vectors(self, block: str) -> np.ndarray:
        return self.finish().parts[0][3][block]


class BlockSums:
    """Per class and channel of one SE block: running sum and sum of squares of s (float64), and saturation counts."""

    def __init__(self, n_classes: int, channels: int):
        self.s1 = torch.zeros(n_classes, channels, dtype=torch.float64)  # (K, C) sum of s
        self.s2 = torch.zeros(n_classes, channels, dtype=torch.float64)  # (K, C) sum of s^2
        self.sat = torch.zeros(2, dtype=torch.float64)                   # (high > 0.95, low < 0.05) counts

    def add(self, s: torch.Tensor, y: torch.Tensor, onehot: torch.Tensor | None = None) -> None:
        """s (B, C) float32 excitations, y (B,) class indices; onehot (K, B) float64 of y, shared across blocks."""
        s64 = s.double()
        if onehot is None:
            onehot = torch.nn.functional.one_hot(y, self.s1.shape[0]).T.double()
        # a (K, B) @ (B, C) matmul: faster here than index_add_ on float64
        self.s1 += onehot @ s64
        self.s2 += onehot @ (s64 * s64)
        self.sat += torch.stack([(s > 0.95).sum(), (s < 0.05).sum()]).double()

    def merge(self, other: BlockSums) -> BlockSums:
        self.s1 += other.s1
        self.s2 += other.s2
        self.sat += other.sat
        return self


class StreamingStats:
    """Everything the statistics of one model need, accumulated batch by batch in memory bounded by the sample."""

    def __init__(self, n_classes: int, cap: int, seed: int):
        self.n_classes, self.seed = n_classes, seed
        self.counts = torch.zeros(n_classes, dtype=torch.float64)  # images per class (exact below 2**53)
        self.sums: dict[str, BlockSums] = {}
        self.sample = ClassSample(n_classes, cap)

    def add(self, excitation: dict[str, torch.Tensor], y: torch.Tensor, index: np.ndarray) -> None:
        """excitation: block -> s (B, C); y (B,) class indices; index (B,) the images' indices in their source."""
        self.counts += torch.bincount(y, minlength=self.n_classes).double()
        onehot = torch.nn.functional.one_hot(y, self.n_classes).T.double()  # (K, B)
        for b, s in excitation.items():
            self.sums.setdefault(b, BlockSums(self.n_classes, s.shape[1])).add(s, y, onehot)
        self.sample.add(image_keys(index, self.seed), y.numpy(), np.asarray(index, np.int64),
                        {b: s.numpy() for b, s in excitation.items()})

    def merge(self, other: StreamingStats) -> StreamingStats:
        """Add another process's (or batch range's) statistics: the sums add, the samples merge exactly."""
        self.counts += other.counts
        for b, sums in other.sums.items():
            if b in self.sums:
                self.sums[b].merge(sums)
            else:
                self.sums[b] = sums
        self.sample.merge(other.sample)
        return self
