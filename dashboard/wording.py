"""Messages joined from parts read as one sentence each: exactly one full stop at the end, none doubled."""
from __future__ import annotations


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own ! or ?); an empty text stays empty."""
    text = text.strip().rstrip(".").rstrip()
    return text if not text or text[-1] in "!?" else text + "."


def short(text: str, most: int) -> str:
    """At most `most` characters, cut at a word boundary where one is near, with an ellipsis: a caption under a
    thumbnail then wraps between words instead of breaking one in the middle."""
    if len(text) <= most:
        return text
    cut = text[:most - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= most // 2 else cut).rstrip(" ,·-_") + "…"
