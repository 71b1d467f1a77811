"""Reading and dropping the part of a request body the app did not read, before it answers.

A body the app refuses unread (over MAX_BODY_BYTES, or sent to an unknown path) stays on the
socket. gunicorn then drains at most 64 KiB of it and closes the connection with the rest
unread, and a kernel that closes a socket with unread data sends a reset: a client that writes
its whole body before reading (most HTTP clients) fails with a broken pipe or a connection
reset, and the reset also discards the answer waiting in its receive buffer. Reading the rest
first lets it finish sending and read the answer, and keeps the connection alive. Bounded in
bytes and in time: past those the connection is closed as before.
"""

from __future__ import annotations

import time
from typing import Any

# Enough for a body several times the largest MAX_BODY_BYTES anyone sets (the client
# sent 60 MB); a larger one is not worth reading just to say no.
MAX_DRAIN_BYTES = 128 * 1024 * 1024
DRAIN_SECONDS = 30.0
CHUNK_BYTES = 64 * 1024


def discard_unread_body(environ: dict[str, Any], *, max_bytes: int = MAX_DRAIN_BYTES,
                        seconds: float = DRAIN_SECONDS) -> bool:
    """Read what is left of the request body and drop it; True when nothing is left.

    Reads at most `max_bytes` for at most `seconds` (under gunicorn a stalled client is cut
    off by a timeout on its socket). A body whose Content-Length is already over `max_bytes`
    is not read at all.
    """
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > max_bytes:
        return False
    stream = environ["wsgi.input"]
    sock = environ.get("gunicorn.socket")
    previous = sock.gettimeout() if sock is not None else None
    deadline = time.monotonic() + seconds
    drained = 0
    try:
        while drained <= max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if sock is not None:
                sock.settimeout(remaining)
            chunk = stream.read(CHUNK_BYTES)
            if not chunk:
                return True
            drained += len(chunk)
        return False
    except Exception:  # noqa: BLE001 - gone, stalled or malformed: the server closes, as before
        return False
    finally:
        if sock is not None:
            sock.settimeout(previous)
