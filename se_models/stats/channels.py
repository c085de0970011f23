"""From a gate to its images: the images of a labelled data set ranked by one SE block's gate s_c (the k highest and
the k lowest, overall and per class), the class histogram of that gate and whether it depends on the class beyond
chance; the listed images re-read and passed alone, so every gate listed is the model's own value for that image."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import DataLoader

from se_models.data.datasets import ImageItems, as_source, collate_readable
from se_models.errors import DatasetError, UnknownBlockError, UnknownClassError
from se_models.hooks.recorder import SERecorder
from se_models.stats import significance as sig
from se_models.stats.excitation import select_per_class

if TYPE_CHECKING:  # types only: statistics never load models themselves
    from se_models.data.datasets import ImageSource
    from se_models.models.registry import LoadedModel

BINS = 20  # the class histogram's bins over (0, 1): 0.05 gate units each
# Channels ranked in one pass when the caller asks for all of a block's: the pass keeps one float per image and
# channel (never an image), at most this many (10 000 test images x 64 channels is 640 000).
MAX_GATES = 5_000_000


@dataclass
class RankedImage:
    """One image listed for a channel, with that channel's gate and maps from a pass of this image alone."""
    index: int                 # in the data (the order of its ImageSource)
    image: str                 # its file below the folder, or #index in a split
    cls: str                   # its true class
    gate: float                # s_c: exactly what analyze_image records for this image (a batch of one)
    z: float                   # the squeeze: mean of U_c over the map
    u: np.ndarray | None = field(default=None, repr=False, compare=False)   # (h, w) U_c, before scaling
    su: np.ndarray | None = field(default=None, repr=False, compare=False)  # (h, w) s_c * U_c, after

    def to_dict(self) -> dict:
        return {"index": self.index, "image": self.image, "class": self.cls, "gate": self.gate, "z": self.z}


@dataclass
class ChannelRanking:
    """One channel of one SE block over a labelled data set: its k highest and k lowest gates, overall and per
    class; each class's mean gate and gate histogram; how far apart the class means lie against label shuffles."""
    model: str
    weights: str
    data: str
    block: str
    channel: int
    k: int
    classes: list[str]
    counts: dict[str, int]                       # images per class read
    top: list[RankedImage]                       # the k highest gates, highest first
    bottom: list[RankedImage]                    # the k lowest gates, lowest first
    per_class: dict[str, dict[str, list[RankedImage]]]  # class -> {"top": [...], "bottom": [...]}
    class_means: dict[str, float]                # class -> mean gate over its images
    edges: list[float]                           # BINS + 1 bin edges over [0, 1]
    histogram: dict[str, list[int]]              # class -> images per bin
    divergence: float                            # std over classes of the class means: Fig. 6's spread, one channel
    divergence_null: list[float]                 # [mean, 99th percentile] of it under label shuffles
    divergence_p: float                          # permutation p-value
    permutations: int = sig.N_PERMUTATIONS
    skipped: list[str] = field(default_factory=list)  # unreadable files, with the reason

    def to_dict(self) -> dict:
        listing = lambda rs: [r.to_dict() for r in rs]  # noqa: E731
        d = {k: getattr(self, k) for k in ("model", "weights", "data", "block", "channel", "k", "classes", "counts")}
        d.update(top=listing(self.top), bottom=listing(self.bottom),
                 per_class={c: {w: listing(v) for w, v in lists.items()} for c, lists in self.per_class.items()})
        d.update({k: getattr(self, k) for k in ("class_means", "edges", "histogram", "divergence", "divergence_null",
                                                "divergence_p", "permutations", "skipped")})
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"


@dataclass
class GateRanking:
    """One streamed pass over the data for some channels of one block: every image's gate of each (floats, not
    images), from which `channel` ranks one channel."""
    source: ImageSource
    block: str
    channels: list[int]
    classes: list[str]       # the classes asked for; y indexes them
    index: np.ndarray        # (N,) the images read, as indices into the source
    y: np.ndarray            # (N,) their classes
    gates: np.ndarray        # (N, len(channels)) float32 s from batched passes
    skipped: list[str]
    available: int = 0       # images of these classes in the data (more than N when per_class sampled them)

    def channel(self, loaded: LoadedModel, channel: int, k: int = 8, seed: int = 0) -> ChannelRanking:
        """One channel's ranking; every listed image re-read and passed alone (exact_gates) for its gate and maps.
        The batched passes of the stream choose the images; the lone passes give the values and their order."""
        if channel not in self.channels:
            raise UnknownBlockError(f"channel {channel} was not ranked; ranked: {self.channels}")
        s = self.gates[:, self.channels.index(channel)].astype(np.float64)  # (N,)
        present = [c for c in range(len(self.classes)) if (self.y == c).any()]

        def extremes(rows: np.ndarray) -> tuple[list[int], list[int]]:
            order = rows[np.argsort(s[rows], kind="stable")]  # lowest first; ties keep the data's order
            return [int(i) for i in self.index[order[::-1][:k]]], [int(i) for i in self.index[order[:k]]]

        groups = {"all": extremes(np.arange(len(s)))}
        groups.update({self.classes[c]: extremes(np.flatnonzero(self.y == c)) for c in present})
        exact = exact_gates(loaded, self.source, self.block, channel,
                            sorted({i for hi, lo in groups.values() for i in hi + lo}))

        def ranked(indices: list[int], highest: bool) -> list[RankedImage]:
            return sorted((exact[i] for i in indices), key=lambda r: (-r.gate if highest else r.gate, r.index))

        y = np.searchsorted(present, self.y)  # labels over the present classes, 0..K-1
        obs, null = sig.permutation_null(s[:, None], y, sig.N_PERMUTATIONS, np.random.default_rng(seed))
        p = (1 + int((null >= obs * (1 - 1e-9)).sum())) / (1 + sig.N_PERMUTATIONS)
        names = [self.classes[c] for c in present]
        edges = np.linspace(0, 1, BINS + 1)
        return ChannelRanking(
            model=loaded.name, weights=loaded.weights, data=self.source.description, block=self.block,
            channel=channel, k=k, classes=names, counts={n: int((y == j).sum()) for j, n in enumerate(names)},
            top=ranked(groups["all"][0], True), bottom=ranked(groups["all"][1], False),
            per_class={n: {"top": ranked(groups[n][0], True), "bottom": ranked(groups[n][1], False)} for n in names},
            class_means={n: round(float(s[y == j].mean()), 6) for j, n in enumerate(names)},
            edges=edges.round(4).tolist(),
            histogram={n: np.histogram(s[y == j], edges)[0].tolist() for j, n in enumerate(names)},
            divergence=round(obs, 6), divergence_null=[round(float(null.mean()), 6),
                                                       round(float(np.percentile(null, 99)), 6)],
            divergence_p=round(p, 5), skipped=list(self.skipped))


def stream_ranking(loaded: LoadedModel, dataset, block: str, channels: list[int] | None = None,
                   classes: list[str] | None = None, progress: Callable[[int, int], None] | None = None,
                   batch_size: int = 128, workers: int = 0, per_class: int | None = None, seed: int = 0
                   ) -> GateRanking:
    """One pass over the data ("bundled", a folder, an ArrayDataset or a torchvision dataset) under SERecorder,
    keeping each image's gate of `channels` of `block` (default: every channel, when that is at most MAX_GATES
    floats); per_class: at most that many seeded images of each class (excitation_stats' choice), None = all.
    Memory: one float per image and channel; the images themselves are read again only when listed."""
    if block not in loaded.se_blocks:
        raise UnknownBlockError(f"unknown SE block {block!r}; this model has {list(loaded.se_blocks)}")
    source = as_source(dataset, loaded)
    names = classes or source.classes
    unknown = [c for c in names if c not in source.classes]
    if unknown:
        raise UnknownClassError(f"unknown class(es) {unknown}; the data has {source.classes}")
    group_of = np.full(len(source.classes), -1)
    group_of[[source.classes.index(c) for c in names]] = np.arange(len(names))
    targets = group_of[np.asarray(source.targets, dtype=int)]
    wanted = [source.classes.index(c) for c in names]
    indices = select_per_class(source.targets, wanted, per_class, seed)
    if not indices:
        raise DatasetError(f"no images of classes {names} in {source.description}")
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    skipped: list[str] = []
    chosen: list[int] | None = None
    done = 0
    loader = DataLoader(ImageItems(source, indices), batch_size=batch_size, num_workers=workers,
                        collate_fn=collate_readable)
    for idx, x, errors in loader:
        skipped += errors
        done += len(idx) + len(errors)
        if x is not None:
            with SERecorder(loaded, blocks=[block]) as rec, torch.inference_mode():
                loaded.model(x.to(loaded.device))
            s = rec.excitation[block].float().cpu().numpy()  # (B, C)
            if chosen is None:  # the block's channel count is known from the first batch
                chosen = check_channels(block, s.shape[1], channels, len(indices))
            parts.append((idx.numpy(), s[:, chosen]))
        if progress:
            progress(done, len(indices))
    if not parts:
        raise DatasetError(f"none of the {len(indices)} images could be read, e.g. {skipped[0]}")
    index = np.concatenate([p[0] for p in parts])
    return GateRanking(source, block, chosen, list(names), index, targets[index],
                       np.concatenate([p[1] for p in parts]), skipped, int((targets >= 0).sum()))


def check_channels(block: str, n: int, channels: list[int] | None, images: int) -> list[int]:
    """The channels to rank: those asked for (each must exist), or all of the block when they fit MAX_GATES."""
    if channels is None:
        if n * images > MAX_GATES:
            raise DatasetError(f"ranking all {n} channels of {block} over {images} images keeps {n * images} "
                               f"values (at most {MAX_GATES}): rank a few channels at a time")
        return list(range(n))
    bad = [c for c in channels if not 0 <= c < n]
    if bad:
        raise UnknownBlockError(f"{block} has channels 0..{n - 1}; there is no channel {bad[0]}")
    return list(channels)


def exact_gates(loaded: LoadedModel, source: ImageSource, block: str, channel: int, indices: list[int]
                ) -> dict[int, RankedImage]:
    """Each image passed alone (a batch of one, as analyze_image and block_maps pass it): its gate s_c, z_c and the
    channel's U and s*U maps. A batched pass can differ from a lone one in the last bits of float32 (measured up to
    2.4e-7 on the bundled models); these values are the model's own for the image."""
    out = {}
    for i in indices:
        x = source.get(i)[None].to(loaded.device)  # (1, C, H, W)
        with torch.no_grad(), SERecorder(loaded, blocks=[block], feature_maps=True) as rec:
            loaded.model(x)
        out[i] = RankedImage(index=i, image=source.name(i), cls=source.classes[source.targets[i]],
                             gate=float(rec.excitation[block][0, channel]), z=float(rec.squeeze[block][0, channel]),
                             u=rec.before[block][0, channel].cpu().numpy(),
                             su=rec.after[block][0, channel].cpu().numpy())
    return out


def rank_channel(loaded: LoadedModel, dataset, block: str, channel: int, k: int = 8,
                 classes: list[str] | None = None, progress: Callable[[int, int], None] | None = None,
                 batch_size: int = 128, workers: int = 0) -> ChannelRanking:
    """The images with the k highest and k lowest gates of `block`'s `channel` over the data, overall and per
    class, each gate exact to the model's own pass on that image; with the class histogram of the gate."""
    ranking = stream_ranking(loaded, dataset, block, [channel], classes, progress, batch_size, workers)
    return ranking.channel(loaded, channel, k)
