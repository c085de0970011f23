"""How the gates learned, in words: when each block (and each stage's last block) became class-specific, i.e.
learned, over the epochs of a training run, and whether shallow or deep stages got there first."""
from __future__ import annotations

from se_models.findings import numbers as num
from se_models.findings.core import Finding, em, render
from se_models.hooks.naming import last_of_each_stage, stage_index


def starts_at_control(history) -> bool:
    """Whether the first epoch is the untrained control itself: the same numbers in every block (a seed-0 run's
    initial weights are the control's network, measured on the same images)."""
    return history.epochs[0].stats.blocks == history.control


def learned_at(history) -> dict[str, list[bool]]:
    """block -> learned (class-specific: above chance and above the untrained control) at each epoch, in order;
    an epoch of random weights (epoch 0) is never learned."""
    out: dict[str, list[bool]] = {}
    for e in history.epochs:
        stats = history.at(e.epoch)
        for b in stats.blocks:
            out.setdefault(b.name, []).append(bool(b.learned))
    return out


def since(flags: list[bool], epochs: list[int]) -> int | None:
    """The first epoch from which a block is learned at every later epoch; None when it is not learned at the last."""
    first = None
    for flag, epoch in zip(flags, epochs):
        first = (first if first is not None else epoch) if flag else None
    return first


def became_learned(history) -> dict[str, int | None]:
    """block -> the epoch it became learned and stayed learned to the last epoch (None: not learned at the end)."""
    return {b: since(flags, history.numbers) for b, flags in learned_at(history).items()}


def outcome(flags: list[bool], epochs: list[int]) -> tuple[str, int | None, int | None]:
    """How one block's verdict went over the epochs: ("steady", since, first) learned from `since` on; ("regained",
    since, first) learned, lost, learned again for good; ("lost", None, first) learned but not at the end; ("never",
    None, None)."""
    steady = since(flags, epochs)
    first = next((e for f, e in zip(flags, epochs) if f), None)
    if steady is not None:
        return ("steady" if steady == first else "regained"), steady, first
    return ("lost" if first is not None else "never"), None, first


def _names(blocks: list[str]) -> str:
    """'SE_2_3 (end of stage 2)' or 'SE_2_3, SE_3_3 and SE_4_3 (the ends of stages 2, 3 and 4)'."""
    stages = [str(stage_index(b)[0]) for b in blocks if stage_index(b)]
    listed = blocks[0] if len(blocks) == 1 else ", ".join(blocks[:-1]) + f" and {blocks[-1]}"
    if len(stages) != len(blocks):
        return listed
    if len(blocks) == 1:
        return f"{listed} (end of stage {stages[0]})"
    return f"{listed} (the ends of stages {', '.join(stages[:-1])} and {stages[-1]})"


def stages_learned(history) -> list[Finding]:
    """The last block of every stage: when it became learned and whether it stayed so; stages that went the same
    way share one sentence (claim "stage_learned", holds = learned at the last epoch)."""
    epochs, flags = history.numbers, learned_at(history)
    groups: dict[tuple, list[str]] = {}
    for b in last_of_each_stage(history.blocks()):
        groups.setdefault(outcome(flags[b], epochs), []).append(b)
    out = []
    for (kind, steady, first), blocks in groups.items():
        who, many = _names(blocks), len(blocks) > 1
        nums = dict(blocks=blocks, outcome=kind, since=steady, first=first, last_epoch=epochs[-1])
        if kind == "steady":
            text = (f"{who} became class-specific (learned) at epoch {em(steady)} and stayed so to epoch "
                    f"{epochs[-1]}.")
        elif kind == "regained":
            text = (f"{who} {'were' if many else 'was'} first learned at epoch {first}, lost it, and "
                    f"{'are' if many else 'is'} learned steadily from epoch {em(steady)}.")
        elif kind == "lost":
            text = (f"{who} {'were' if many else 'was'} learned at some epochs (first at {first}) but not at the "
                    f"last, epoch {epochs[-1]}.")
        else:
            text = f"{who} never became class-specific (learned) in these {len(epochs) - 1} epochs."
        out.append(Finding("stage_learned", steady is not None, nums, text))
    return out


def order(history) -> Finding:
    """Shallow first, deep first, together, or no depth order: the epochs from which each stage's last block stays
    learned, compared along depth."""
    ends = last_of_each_stage(history.blocks())
    when = became_learned(history)
    steady = [(b, when[b]) for b in ends if when[b] is not None]
    nums = dict(stages={b: when[b] for b in ends})
    if len(ends) < 2:
        return Finding("depth_order", None, nums, "")
    if len(steady) < 2:
        return Finding("depth_order", None, nums, "Too few stages end up learned to say which learned first.")
    epochs = [e for _, e in steady]
    listing = ", ".join(f"{b} at {e}" for b, e in steady)
    if len(set(epochs)) == 1:
        return Finding("depth_order", None, nums, "One epoch is too coarse a step to tell which of them learned "
                                                  "first.")
    if all(a <= b for a, b in zip(epochs, epochs[1:])):
        return Finding("depth_order", True, nums, f"Shallow stages learned first, deep ones later ({listing}).")
    if all(a >= b for a, b in zip(epochs, epochs[1:])):
        return Finding("depth_order", False, nums, f"The deep stages learned first, the shallow ones later "
                                                   f"({listing}).")
    return Finding("depth_order", False, nums, f"The stages did not learn in depth order ({listing}).")


HALF = 0.5  # "most of the way": a block whose class curves lie half as far apart as they end up


def half_way(history) -> Finding:
    """When each stage's last block got half of its final divergence (the first epoch whose interval lies wholly at
    or above half the last epoch's value), and whether that comes in depth order: a statement of degree, telling
    the stages apart where "learned" came at the same epoch for all."""
    ends = last_of_each_stage(history.blocks())
    final = {b: history.at(history.last).block(b).divergence for b in ends}
    when = {}
    for b in ends:
        for e in history.numbers:
            d = history.at(e).block(b)
            low = d.divergence_ci[0] if d.divergence_ci else d.divergence
            if low >= HALF * final[b]:
                when[b] = e
                break
    nums = dict(epochs=when, final=final)
    if len(ends) < 2 or len(history.numbers) < 3 or len(when) < len(ends):  # an interval too wide to tell
        return Finding("half_way", None, nums, "")
    epochs = [when[b] for b in ends]
    head = (f"By size, {ends[0]} reached half of its final class divergence at epoch {em(epochs[0])}, "
            + ", ".join(f"{b} at {em(e)}" for b, e in zip(ends[1:], epochs[1:])))
    if len(set(epochs)) == 1:
        return Finding("half_way", None, nums, f"{head}: all at once.")
    if all(a <= b for a, b in zip(epochs, epochs[1:])):
        return Finding("half_way", True, nums, f"{head}: the shallow stages got there first.")
    if all(a >= b for a, b in zip(epochs, epochs[1:])):
        return Finding("half_way", False, nums, f"{head}: the deep stages got there first.")
    return Finding("half_way", False, nums, f"{head}: not in depth order.")


def growth(history) -> Finding:
    """The deepest block's divergence at the initialisation and at the last epoch, with intervals."""
    deep = history.blocks()[-1]
    a, b = history.at(history.numbers[0]).block(deep), history.at(history.last).block(deep)
    nums = dict(block=deep, first=a.divergence, last=b.divergence)
    return Finding("growth", b.divergence > a.divergence, nums,
                   f"At {deep} the class curves lay {num.units(a.divergence)}{num.interval(a.divergence_ci)} apart at "
                   f"epoch {history.numbers[0]} and {em(num.units(b.divergence))}{num.interval(b.divergence_ci)} at "
                   f"epoch {history.last}.")


def epochs_findings(history) -> list[Finding]:
    """What the epoch statistics say, in reading order: each stage's last block, the order along depth, the growth
    of the deepest block."""
    return [*stages_learned(history), order(history), half_way(history), growth(history)]


def epochs_reading(history, markdown: bool = False) -> str:
    return render(epochs_findings(history), markdown)


def epoch_caption(history, epoch: int) -> str:
    """What the epoch shown is: the initialisation (the control itself, when it is), an epoch with the run's test
    accuracy and how many blocks are learned, or the last (the model's own weights, when it is)."""
    stats = history.at(epoch)
    record = next(e for e in history.epochs if e.epoch == epoch)
    acc = f"test accuracy {num.share(record.test_accuracy)}" if record.test_accuracy is not None else ""
    if epoch == history.numbers[0]:
        what = "the initialisation, the untrained control itself" if starts_at_control(history) else \
            "the initial weights"
        return f"Epoch {epoch}: {what}; nothing is learned yet."
    learned = sum(bool(b.learned) for b in stats.blocks)
    parts = [f"Epoch {epoch} of {history.last}", acc, f"{learned} of {len(stats.blocks)} blocks learned"]
    if epoch == history.last and history.last_is_model:
        parts.append("the model's own weights (its reference statistics)")
    return " · ".join(p for p in parts if p) + "."
