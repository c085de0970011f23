"""A server's budget for work a browser starts: heavy computations one at a time (the others queue), and the image cap
of one request. The numbers are settings (se_models.config); this module only enforces them."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from se_models import config

# one per server process (a module is imported once, and every browser session runs in that process)
_HEAVY = threading.BoundedSemaphore(config.HEAVY_JOBS)

QUEUED = ("Queued: another heavy computation is running on this server (one at a time, so that every student's "
          "turn comes); yours starts as soon as it ends.")


@contextmanager
def heavy(queued: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold one of the server's slots for heavy work while the block runs; `queued()` is called once, first, when
    no slot is free at once (so the page can say it waits), then the call waits its turn."""
    if not _HEAVY.acquire(blocking=False):
        if queued is not None:
            queued()
        _HEAVY.acquire()
    try:
        yield
    finally:
        _HEAVY.release()


def images_per_class(per_class: int, classes: int) -> int:
    """The images per class one request may read: what was asked for, within MAX_IMAGES_PER_REQUEST over all its
    classes (at least 2 a class, the fewest the statistics can use)."""
    return max(2, min(per_class, config.MAX_IMAGES_PER_REQUEST // max(classes, 1)))
