"""Progress lines for a human watching a long step: one format for every command.

`weaviate-dev <verb>: <message>` on stderr (the verb is set by the CLI; a library user gets
`weaviate-dev: <message>`), flushed at once, so lines interleave correctly with the output of
the programs we run.
"""

from __future__ import annotations

import sys

_prefix = "weaviate-dev"


def set_verb(verb: str | None) -> None:
    """Name the running verb in every following line (the CLI calls this once)."""
    global _prefix
    _prefix = f"weaviate-dev {verb}" if verb else "weaviate-dev"


def say(message: str) -> None:
    print(f"{_prefix}: {message}", file=sys.stderr, flush=True)
