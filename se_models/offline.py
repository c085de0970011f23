"""Network failures in plain words: no raw socket or HTTP error text ("[Errno -2] ...") reaches a user."""
from __future__ import annotations

import socket
import urllib.error


def reason(err: BaseException) -> str:
    """Why a download failed, as a short clause ("this machine has no internet connection")."""
    inner = getattr(err, "reason", None) if isinstance(err, urllib.error.URLError) else None
    err = inner if isinstance(inner, BaseException) else err
    if isinstance(err, socket.gaierror):  # the name lookup failed: no network, or no DNS
        return "this machine has no internet connection (the server's name could not be looked up)"
    if isinstance(err, (TimeoutError, socket.timeout)):
        return "the connection timed out"
    if isinstance(err, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(err, urllib.error.HTTPError):
        return f"the server answered HTTP {err.code}"
    if isinstance(err, OSError):
        return "the network could not be reached"
    return "the download failed"
