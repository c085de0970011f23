"""One-paragraph readings of the statistics as Markdown: se_models.readings' sentences, numbers in bold."""
from __future__ import annotations

from se_models.findings.readings import compare_reading, first_and_deepest, specificity_reading

__all__ = ["compare_sentence", "first_and_deepest", "specificity_sentence"]


def _bold(text: str) -> str:
    return f"**{text}**"


def specificity_sentence(stats) -> str:
    """Class divergence first stage vs deepest block, with chance levels, intervals and verdicts (Markdown)."""
    return specificity_reading(stats, em=_bold)


def compare_sentence(label_a: str, a, label_b: str, b, block: str | None = None) -> str:
    """What two models' class-specificity numbers say side by side (Markdown)."""
    return compare_reading(label_a, a, label_b, b, block, em=_bold)
