"""A container registry on 127.0.0.1, so that a "pull" path is tested for real without the
internet: distribution's `registry` (the reference implementation behind Docker Hub's), built
from its Go module at a pinned version into the toolkit's cache on first use, serving from a
temporary directory. Docker allows plain HTTP to registries on 127.0.0.0/8.

    with LocalRegistry(cache_dir) as registry:
        name = registry.push(local_image, "semitechnologies/weaviate:1.39.0")
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

MODULE = "github.com/distribution/distribution/v3/cmd/registry"
VERSION = "v3.1.2"


def binary(cache_dir: Path) -> Path:
    """The pinned registry, built with `go install` once (a minute or two; CI builds it ahead,
    in the background: a build under way is waited for, not done twice)."""
    from weaviate_dev.core import locks

    gobin = Path(cache_dir) / f"registry-{VERSION}"
    path = gobin / "registry"
    with locks.held(gobin / ".build.lock"):
        if not path.is_file():
            go = shutil.which("go")
            if go is None:
                raise RuntimeError("building the local registry needs Go")
            subprocess.run([go, "install", f"{MODULE}@{VERSION}"], check=True, timeout=900,
                           env=dict(os.environ, GOBIN=str(gobin)), capture_output=True)
    return path


if __name__ == "__main__":  # `python -m integration_tests.local_registry`: build it ahead
    from weaviate_dev.core.settings import Settings

    print(binary(Settings.from_env().cache_dir))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalRegistry:
    """The registry on 127.0.0.1:<a free port> while entered; its storage removed after."""

    def __init__(self, cache_dir: Path) -> None:
        self.binary = binary(cache_dir)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"

    def __enter__(self) -> LocalRegistry:
        self.root = Path(tempfile.mkdtemp(prefix="weaviate-dev-registry-"))
        config = self.root / "config.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                          f"    rootdirectory: {self.root / 'data'}\n"
                          f"http:\n  addr: {self.host}\n")
        self.proc = subprocess.Popen([str(self.binary), "serve", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://{self.host}/v2/", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the registry did not answer on {self.host}")
            time.sleep(0.2)

    def push(self, client, image: str, name: str) -> str:
        """`image` (local) pushed as `name` ("repo:tag"); the full reference to pull."""
        reference = f"{self.host}/{name}"
        repository, tag = reference.rsplit(":", 1)
        client.images.get(image).tag(repository, tag)
        for line in client.images.push(repository, tag, stream=True, decode=True):
            if "error" in line:
                raise RuntimeError(f"pushing {reference}: {line['error']}")
        return reference

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)
