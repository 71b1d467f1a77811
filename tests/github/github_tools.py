"""actionlint, which lints our workflows, from its Go module at a pinned version
(`go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12`) into the toolkit's cache,
once: seconds with Go's caches warm, under a minute without. CI builds it ahead in the
background; a test that gets there first waits for that build instead of making a second one.
actionlint runs shellcheck (Debian's package) on every `run:` script when it is on PATH.

    python tests/github/github_tools.py   # build it ahead; prints its path
"""

from __future__ import annotations

from pathlib import Path

from weaviate_dev.core.settings import Settings
from weaviate_dev.weaviate.build import go_install

MODULE = "github.com/rhysd/actionlint/cmd/actionlint"
VERSION = "v1.7.12"


def actionlint(settings: Settings) -> Path:
    return go_install(MODULE, VERSION, settings.cache_dir / f"actionlint-{VERSION}",
                      "actionlint")


if __name__ == "__main__":
    print(actionlint(Settings.from_env()))
