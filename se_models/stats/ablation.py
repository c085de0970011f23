"""Ablation: override the excitation s of chosen attention blocks (identity, mean, shuffle) and measure what it
costs; and the gate transplant (another class's mean gates: does the class identity in the gates move predictions?)."""
from __future__ import annotations

from contextlib import contextmanager, nullcontext

import numpy as np
import torch

from se_models.errors import AblationError, DatasetError, ImageError, UnknownBlockError
from se_models.hooks.blocks import find_se_blocks
from se_models.hooks.kinds import gate_output, gate_values, spec_of
from se_models.hooks.manager import ModelHooks
from se_models.hooks.naming import stage_index
from se_models.stats.excitation import select_per_class
from se_models.stats.tables import INTERVAL, AblationRow, AblationTable, wilson

MODES = {
    "identity": "s = 1: every gate forced open (not the network without SE: the scale changes too)",
    "mean": "s = the per-channel mean gate over a reference set: the scale kept, the input dependence removed",
    "shuffle": "s = another image's gates (same batch): the right gate statistics, the wrong image",
    "transplant": "s = the mean gate of another class B (class means by true label over these images), for every "
                  "B: moved = now predicted as B; the control takes the image's own class mean",
}
CACHE_BYTES = 1 << 30  # decoded batches kept in memory for a second sweep up to this size, else decoded again


def se_blocks_of(loaded_or_model) -> dict[str, str]:
    """Paper name -> module path of every SE block; NoSEBlocksError when there is none."""
    known = getattr(loaded_or_model, "se_blocks", None)
    return known or find_se_blocks(getattr(loaded_or_model, "model", loaded_or_model))


def resolve_blocks(known: dict[str, str], blocks) -> list[str]:
    """None/"all" = every block; a name or a list of names, checked (UnknownBlockError), in forward order."""
    if blocks is None or blocks == "all":
        return list(known)
    wanted = [blocks] if isinstance(blocks, str) else list(blocks)
    unknown = [b for b in wanted if b not in known]
    if unknown or not wanted:
        raise UnknownBlockError(f"unknown SE block(s) {unknown or wanted}; this model has {', '.join(known)}")
    return [b for b in known if b in wanted]


def _derangement(n: int, generator: torch.Generator) -> torch.Tensor:
    """donor (n,): image i takes the gates of image donor[i] != i (one random cycle, seeded)."""
    if n < 2:
        raise AblationError("shuffle needs at least 2 images in a batch: each image takes another image's gates")
    order = torch.randperm(n, generator=generator)
    donor = torch.empty(n, dtype=torch.long)
    donor[order] = order.roll(1)  # order[k] takes order[k-1]: a single cycle has no fixed point
    return donor


@contextmanager
def ablate(loaded, blocks=None, mode: str = "identity", mean_gates: dict | None = None, seed: int = 0,
           donor_gates: dict | None = None):
    """While open, the attention blocks `blocks` (None = all) multiply by the overridden s instead of their own.

    identity: s = 1; mean: `mean_gates[block]` (C,) for every image; shuffle: another image's gates of the same
    batch; transplant: `donor_gates[block]` (B, C), one gate vector per image of the next pass (ablation_tables gives
    each image another class's mean gates).

    Forward hooks on each block's gate child return the replacement in the child's own shape (hooks.kinds), so the
    module multiplies by it. They run before any other hook on the gate (prepend), so an SERecorder records the s
    the network actually used. The hooks are ModelHooks': the model's lock is held while open, and the hooks are
    removed whatever happens."""
    if mode not in MODES:
        raise AblationError(f"unknown ablation mode {mode!r}: use {', '.join(MODES)}")
    known = se_blocks_of(loaded)
    names = resolve_blocks(known, blocks)
    given = {"mean": mean_gates, "transplant": donor_gates}.get(mode)
    missing = [b for b in names if b not in (given or {})] if mode in ("mean", "transplant") else []
    if missing:
        what = "a mean gate" if mode == "mean" else "donor gates (B, C)"
        raise AblationError(f"mode {mode!r} needs {what} per block; none for {', '.join(missing)}")
    # mean: (C,) -> (1, C), broadcast over the batch; transplant: (B, C) as given
    gates = {b: torch.as_tensor(np.asarray(given[b]) if mode == "mean" else given[b], dtype=torch.float32)
             .reshape(1 if mode == "mean" else len(given[b]), -1) for b in names} if given is not None else {}
    generator = torch.Generator().manual_seed(seed)
    donor: dict[str, torch.Tensor] = {}

    def new_pass(_module, inputs):  # one derangement per forward pass, shared by every ablated block
        donor["perm"] = _derangement(len(inputs[0]), generator)

    def hook_for(block: str, logit: bool):
        def hook(_module, _inputs, out):  # out: the gate child's output, e.g. (B, C, 1, 1); ECA (B, 1, C)
            if mode == "shuffle":
                return out[donor["perm"].to(out.device)]
            s = gate_values(out, logit)  # (B, C)
            if mode == "identity":
                return gate_output(torch.ones_like(s), out, logit)
            new = gates[block]
            if new.shape[1] != s.shape[1] or new.shape[0] not in (1, s.shape[0]):
                raise AblationError(f"{block}: {mode} gates of shape {tuple(new.shape)} for a block of "
                                    f"{s.shape[1]} channels and a batch of {s.shape[0]}")
            return gate_output(new, out, logit)
        return hook

    with ModelHooks(loaded) as hooks:
        if mode == "shuffle":
            hooks.pre_forward("", new_pass)  # "": the model itself
        for b in names:
            path = known[b]
            spec = spec_of(hooks.module(path))
            hooks.forward(f"{path}.{spec.gate}", hook_for(b, spec.logit), prepend=True)
        yield names


def stage_rows(names: list[str], per_block: bool = False) -> list[tuple[str, list[str]]]:
    """(label, blocks) of every row: one per stage (`stage 2`, ...), one per block with per_block, `all blocks`."""
    stages: dict[int, list[str]] = {}
    for n in names:
        si = stage_index(n)
        if si:
            stages.setdefault(si[0], []).append(n)
    rows = [(f"stage {k}", v) for k, v in stages.items()]
    if per_block or not stages:
        rows += [(n, [n]) for n in names]
    return rows + [("all blocks", list(names))]


def _label_map(source_classes: list[str], labels: list[str]) -> list[int]:
    """Data class index -> model output index: by name, or by position when a folder has one dir per output class
    (ImageNet validation folders named by synset sort into the models' class order)."""
    if all(c in labels for c in source_classes):
        return [labels.index(c) for c in source_classes]
    if len(source_classes) == len(labels):
        return list(range(len(labels)))
    raise DatasetError(f"the data's classes ({', '.join(source_classes[:5])}, ...) are neither the model's labels nor "
                       f"one folder per output class ({len(source_classes)} folders, {len(labels)} classes)")


class _Tally:
    """Running top-1 / top-5 / changed counts of one row."""

    def __init__(self):
        self.top1 = self.top5 = self.changed = 0

    def add(self, logits: torch.Tensor, y: torch.Tensor, base_pred: torch.Tensor | None) -> torch.Tensor:
        top = logits.topk(min(5, logits.shape[1]), 1).indices  # (B, k)
        self.top1 += int((top[:, 0] == y).sum())
        self.top5 += int((top == y[:, None]).any(1).sum())
        if base_pred is not None:
            self.changed += int((top[:, 0] != base_pred).sum())
        return top[:, 0]


class _Transplant:
    """Running counts of one transplant row over (image, donor class B) pairs: predicted as B (moved), as before
    (kept), as the true class (top1); and with the image's own class mean (the control): predicted as B, as before."""

    def __init__(self):
        self.moved = self.kept = self.top1 = self.moved_control = self.kept_control = 0

    def row(self, label: str, blocks: list[str], images: int, donors: int) -> AblationRow:
        pairs = images * donors
        share = {k: getattr(self, k) / pairs for k in ("moved", "kept", "top1", "moved_control")}
        share["kept_control"] = self.kept_control / images  # one control pass per image
        cis = {f"{k}_ci": wilson(v, images) for k, v in share.items() if k != "top1"}
        r = {k: round(v, 5) for k, v in share.items()}
        return AblationRow(label, blocks, r.pop("top1"), None, round(1 - share["kept"], 5), **r, **cis)


def donor_offsets(present: int, donors: int | None, seed: int) -> list[int]:
    """Image of class present[i] takes the gates of class present[(i + o) % present] for each offset o: every other
    class (donors None), or a seeded sample of `donors` offsets (the same for every image)."""
    every = list(range(1, present))
    if donors is None or donors >= len(every):
        return every
    if donors < 1:
        raise AblationError(f"transplant needs at least 1 donor class per image, not {donors}")
    return sorted(int(o) for o in np.random.default_rng(seed).choice(every, donors, replace=False))


@torch.inference_mode()
def ablation_tables(loaded, data, modes=("identity", "mean", "shuffle"), per_block: bool = False,
                    per_class: int | None = None, mean_gates: dict | None = None, mean_source: str | None = None,
                    seed: int = 0, batch_size: int = 128, progress=None, donors: int | None = None
                    ) -> dict[str, AblationTable]:
    """Every mode's ablation table over the same images: each batch is decoded once and run through the baseline
    and then every (mode, row), so the cost is one forward pass per row (plus one for the baseline); a transplant
    row costs one pass per donor class and one for its control.

    mean_gates None with mode mean: the per-channel mean gate over these same images, recorded during the baseline
    pass; transplant: the class means of the gates by true label over these same images, from the same first pass
    (then the rows need a second sweep over the images, kept decoded in memory when they fit). donors: transplant
    donor classes per image (None = every other class; fewer for many classes, e.g. ImageNet)."""
    from se_models.data.datasets import as_source
    from se_models.hooks.recorder import SERecorder

    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise AblationError(f"unknown ablation mode(s) {bad}: use {', '.join(MODES)}")
    names = list(se_blocks_of(loaded))
    source = as_source(data, loaded)
    if len(set(source.targets)) < 2:
        raise DatasetError(f"{source.description}: accuracy needs images of at least 2 classes, found "
                           f"{len(set(source.targets))}")
    to_model = _label_map(source.classes, loaded.labels)
    indices = select_per_class(source.targets, sorted(set(source.targets)), per_class, seed)
    rows = stage_rows(names, per_block)
    same_mean = "mean" in modes and mean_gates is None
    first_pass = same_mean or "transplant" in modes  # gates recorded before the rows run
    while len(indices) % batch_size == 1 and batch_size < len(indices):
        batch_size += 1  # no batch of one image: shuffle needs another image to take the gates of
    n_batches = -(-len(indices) // batch_size)
    per_image = int(np.prod(loaded.input_size)) * 4
    keep = first_pass and len(indices) * per_image <= CACHE_BYTES
    kept: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    skipped: list[str] = []

    def batches():  # (batch index, x (B, C, H, W), y (B,) model class indices)
        for bi in range(n_batches):
            if bi in kept:
                yield bi, *kept[bi]
                continue
            xs, ys = [], []
            for i in indices[bi * batch_size:(bi + 1) * batch_size]:
                try:
                    xs.append(source.get(i))
                    ys.append(to_model[source.targets[i]])
                except ImageError as err:  # one unreadable file is reported, the rest still count
                    skipped.append(str(err))
            if xs:
                x, y = torch.stack(xs), torch.tensor(ys)
                if keep:
                    kept[bi] = (x, y)
                yield bi, x, y

    device = loaded.device  # the batches are decoded on the CPU and sent there
    n_labels = len(loaded.labels)
    steps = len(indices) * (2 if first_pass else 1)  # progress in images
    base, base_pred = _Tally(), {}
    tallies = {(m, label): _Tally() for m in modes if m != "transplant" for label, _ in rows}
    moves = {label: _Transplant() for label, _ in rows}
    sums: dict[str, torch.Tensor] = {}        # block -> (C,) sum of s over all images
    class_sums: dict[str, torch.Tensor] = {}  # block -> (labels, C) sum of s per true class
    per_label = torch.zeros(n_labels, dtype=torch.float64)
    transplant: dict = {}  # class means, present classes and donor offsets, set after the first pass
    count = 0

    def run_transplant(bi, x, y):
        means, present, offsets = transplant["means"], transplant["present"], transplant["offsets"]
        position = transplant["position"][y]  # (B,) each image's class among the present ones
        for label, blocks in rows:
            t = moves[label]
            with ablate(loaded, blocks, "transplant", donor_gates={b: means[b][y] for b in blocks}):
                own = loaded.model(x).argmax(1).cpu()  # the control: the image's own class mean
            t.kept_control += int((own == base_pred[bi]).sum())
            for o in offsets:
                donor = present[(position + o) % len(present)]  # (B,) the class B whose gates each image takes
                with ablate(loaded, blocks, "transplant", donor_gates={b: means[b][donor] for b in blocks}):
                    pred = loaded.model(x).argmax(1).cpu()
                t.moved += int((pred == donor).sum())
                t.kept += int((pred == base_pred[bi]).sum())
                t.top1 += int((pred == y).sum())
                t.moved_control += int((own == donor).sum())

    def run_rows(bi, x, y):
        x = x.to(device)
        for m in modes:
            if m == "transplant":
                run_transplant(bi, x, y)
                continue
            for label, blocks in rows:
                with ablate(loaded, blocks, m, mean_gates, seed=seed * 100_003 + bi):
                    tallies[(m, label)].add(loaded.model(x).float().cpu(), y, base_pred[bi])

    step = 0
    for bi, x, y in batches():
        lock = getattr(loaded, "lock", None) or nullcontext()
        with lock, (SERecorder(loaded) if first_pass else nullcontext()) as rec:
            base_pred[bi] = base.add(loaded.model(x.to(device)).float().cpu(), y, None)
        count += len(y)
        if first_pass:
            onehot = torch.nn.functional.one_hot(y, n_labels).T.double()  # (labels, B)
            per_label += onehot.sum(1)
            for b, s in rec.excitation.items():  # s (B, C)
                s = s.double().cpu()
                sums[b] = sums.get(b, 0) + s.sum(0)
                class_sums[b] = class_sums.get(b, 0) + onehot @ s
        else:
            run_rows(bi, x, y)
        step += len(y)
        if progress:
            progress(step, steps)
    if not count:
        raise DatasetError(f"none of the {len(indices)} selected images could be read, e.g. {skipped[:1]}")
    if first_pass:
        if same_mean:
            mean_gates = {b: (v / count).float() for b, v in sums.items()}
            mean_source = f"mean gate over these same {count} images (a first pass)"
        present = torch.nonzero(per_label > 0).flatten()  # model class indices with images, ascending
        position = torch.full((n_labels,), -1, dtype=torch.long)
        position[present] = torch.arange(len(present))
        transplant.update(present=present, position=position, offsets=donor_offsets(len(present), donors, seed),
                          means={b: (v / per_label.clamp(min=1)[:, None]).float() for b, v in class_sums.items()})
        for bi, x, y in batches():
            run_rows(bi, x, y)
            step += len(y)
            if progress:
                progress(step, steps)
    has5 = len(loaded.labels) > 10
    r = lambda v: round(v / count, 5)  # noqa: E731
    baseline = {"top1": r(base.top1), "top5": r(base.top5) if has5 else None}
    out = {}
    for m in modes:
        if m == "transplant":
            n_donors = len(transplant["offsets"])
            out[m] = AblationTable(loaded.name, source.description, m, count, baseline,
                                   [moves[label].row(label, blocks, count, n_donors) for label, blocks in rows],
                                   weights=loaded.weights, skipped=list(skipped), donors=n_donors, interval=INTERVAL)
            continue
        out[m] = AblationTable(
            loaded.name, source.description, m, count, baseline,
            [AblationRow(label, blocks, r(t.top1), r(t.top5) if has5 else None, r(t.changed))
             for label, blocks in rows for t in [tallies[(m, label)]]],
            mean_source=mean_source if m == "mean" else None, weights=loaded.weights, skipped=list(skipped))
    return out


def ablation_table(loaded, data, mode: str = "identity", per_block: bool = False, **kw) -> AblationTable:
    """One mode's table: baseline, one row per stage (per block with per_block) and all blocks."""
    return ablation_tables(loaded, data, (mode,), per_block, **kw)[mode]
