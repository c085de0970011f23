"""Several processes (torchrun): which share of the images is this process's, and merging the streaming sums."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist

from se_models.stats.streaming import BlockSums, StreamingStats


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) without an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_env(device: torch.device) -> bool:
    """Join the process group torchrun describes in the environment (gloo on CPU, NCCL on CUDA); False when this
    process was not started by torchrun (or with one process)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not dist.is_available():
        return False
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    return True


def merge(accs: list[StreamingStats], kept: int, skipped: list[str]) -> tuple[list[StreamingStats], int, list[str]]:
    """All processes' statistics merged, in every process: the sums all-reduced (float64), the bounded samples,
    image counts and unreadable files gathered."""
    world = dist.get_world_size()
    reduce_on = torch.device("cuda") if dist.get_backend() == "nccl" else torch.device("cpu")
    for acc in accs:
        shapes = [None] * world  # a process that read no image of a block has no sums for it yet
        dist.all_gather_object(shapes, {b: s.s1.shape[1] for b, s in acc.sums.items()})
        for b, c in sorted({k: v for d in shapes for k, v in d.items()}.items()):
            acc.sums.setdefault(b, BlockSums(acc.n_classes, c))
        tensors = [acc.counts] + [t for b in sorted(acc.sums) for t in (acc.sums[b].s1, acc.sums[b].s2,
                                                                       acc.sums[b].sat)]
        flat = torch.cat([t.flatten() for t in tensors]).to(reduce_on)
        dist.all_reduce(flat)
        flat, pos = flat.cpu(), 0
        for t in tensors:
            t.copy_(flat[pos:pos + t.numel()].view_as(t))
            pos += t.numel()
        samples = [None] * world
        dist.all_gather_object(samples, acc.sample.finish().parts)
        acc.sample.parts = [p for parts in samples for p in parts]
        acc.sample.finish()
    gathered = [None] * world
    dist.all_gather_object(gathered, (kept, skipped))
    return accs, sum(k for k, _ in gathered), [msg for _, s in gathered for msg in s]
