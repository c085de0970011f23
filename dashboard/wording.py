"""Messages joined from parts read as one sentence each: exactly one full stop at the end, none doubled."""
from __future__ import annotations


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own ! or ?); an empty text stays empty."""
    text = text.strip().rstrip(".").rstrip()
    return text if not text or text[-1] in "!?" else text + "."
