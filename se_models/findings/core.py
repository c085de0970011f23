"""A finding: one claim about data, whether it holds, the numbers it read and its sentence (plain or Markdown)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# Marks around the numbers a sentence stresses: plain text drops them, Markdown makes them bold. Private-use
# characters, so no number or class name can contain them.
_ON, _OFF = "\ue000", "\ue001"


def em(text: object) -> str:
    """A number (or short phrase) the sentence stresses: bold in the app, plain in the terminal."""
    return f"{_ON}{text}{_OFF}"


@dataclass(frozen=True)
class Finding:
    """One claim about data. holds: True / False, or None where the numbers cannot tell (no baseline, no control,
    random weights for a claim about learning)."""
    claim: str                                   # what is claimed, an id: "learned", "rises_with_depth", ...
    holds: bool | None
    numbers: dict = field(default_factory=dict)  # the numbers the sentence was computed from, by name
    sentence: str = ""                           # with em() marks; read it through .text or .markdown

    @property
    def text(self) -> str:
        return self.sentence.replace(_ON, "").replace(_OFF, "")

    @property
    def markdown(self) -> str:
        return self.sentence.replace(_ON, "**").replace(_OFF, "**")

    def render(self, markdown: bool = False) -> str:
        return self.markdown if markdown else self.text


def render(findings: Iterable[Finding], markdown: bool = False, sep: str = " ") -> str:
    """Several findings as one paragraph (their sentences in order; empty ones skipped)."""
    return sep.join(s for s in (f.render(markdown) for f in findings) if s)


def pick(findings: Iterable[Finding], claim: str) -> Finding | None:
    """The finding of one claim, or None."""
    return next((f for f in findings if f.claim == claim), None)
