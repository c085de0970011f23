"""What several subcommands share: a progress bar for (done, total) callbacks, and a bundled model's test split."""
from __future__ import annotations

import sys

from tqdm import tqdm


def progress_bar(desc: str):
    """(update, close): a tqdm bar driven by excitation_stats' (done, total) callback, made on the first call
    (so a command that fails before any image is read prints no empty bar)."""
    bars: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=desc, unit="img", file=sys.stderr))
        bars[0].update(done - bars[0].n)

    def close() -> None:
        for bar in bars:
            bar.close()
    return update, close


def test_split(loaded):
    """The test split of a bundled model's dataset (torchvision; downloads it once when online)."""
    from se_models.data.datasets import training_data

    return training_data(loaded.card.dataset, train=False)[0]
