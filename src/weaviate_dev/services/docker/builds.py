"""Build images: with the classic builder through the docker SDK, or with BuildKit
(`docker buildx`) for another platform. A build reads its context from a tar file, prints its
progress step by step, and on failure raises a DevError that names the failing step and shows
its last lines.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import BinaryIO

from weaviate_dev.core import process
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.progress import say
from weaviate_dev.services.docker import engine, local_images


@dataclass(frozen=True)
class Built:
    """A finished build: its tag, the image's id, and the last image of each of its other
    stages, in the order the engine reported them (`stages`: the build's own record of what it
    made, from the engine's structured `aux` messages, not from its text)."""

    tag: str
    image_id: str | None = None
    stages: tuple[str, ...] = ()


def build(context: BinaryIO, *, tag: str, buildargs: dict[str, str],
          dockerfile: str = "Dockerfile", labels: dict[str, str] | None = None,
          target: str | None = None, tag_result: bool = True) -> Built:
    """Build an image with the classic builder from a context tarball (any binary file
    object: a tar file on disk is streamed, never read whole) and return what was built.
    Progress is printed step by step; a failure raises DevError naming the failing step and
    showing its last lines. `labels` go on the final image; `target` builds only that stage
    (its layers then serve later builds from the cache); `tag_result=False` leaves the result
    untagged (`tag` then only names the build in printed lines).

    The image is tagged only after the whole build succeeded here: the engine goes on with a
    build whose client went away (Ctrl-C), and must then leave an untagged image, not `tag`.
    """
    context.seek(0)
    log = BuildLog(tag)
    made: list[str] = []  # the engine reports each stage's image as it finishes, the last last
    stream = engine.client().api.build(fileobj=context, custom_context=True, rm=True,
                                       forcerm=True, buildargs=buildargs, dockerfile=dockerfile,
                                       decode=True, labels=labels or None, target=target)
    for chunk in stream:
        if "error" in chunk:
            raise DevError(log.failure(chunk["error"]))
        image_id = (chunk.get("aux") or {}).get("ID")
        if image_id:
            made.append(image_id)
        log.add(chunk.get("stream", ""))
    if not made:
        raise DevError(f"building {tag}: the engine did not say which image it built")
    image = engine.client().images.get(made[-1])
    if tag_result:
        image.tag(*local_images.split_tag(tag))
    return Built(tag, image.id, tuple(dict.fromkeys(i for i in made[:-1] if i != image.id)))


def build_for(context: BinaryIO, *, tag: str, buildargs: dict[str, str],
              platform: str, labels: dict[str, str] | None = None) -> Built:
    """Build `tag` for `platform` from a context tarball with BuildKit (`docker buildx
    build`), and load it into the engine. The classic builder cannot build another
    architecture's image (a COPY after a RUN fails with "failed to get destination image"),
    and the SDK drives only that builder, so this runs the buildx plugin, with its progress on
    the terminal. The image is tagged only when the whole build succeeded. The build
    arguments' values reach buildx through its environment (`--build-arg NAME`), never its
    command line, which any user of the machine can read."""
    argv = ["docker", "buildx", "build", "--platform", platform, "--load", "--progress",
            "plain", "-t", tag]
    for name in sorted(buildargs):
        argv += ["--build-arg", name]
    for name, value in sorted((labels or {}).items()):
        argv += ["--label", f"{name}={value}"]
    say(f"building {tag} for {platform} with BuildKit")
    context.seek(0)
    code = process.run_with_stdin([*argv, "-"], context, env={**os.environ, **buildargs})
    if code != 0:
        raise DevError(f"building {tag} for {platform} failed (docker buildx exit code {code}; "
                       "its output is above)")
    return Built(tag, local_images.image_id(tag))


class BuildLog:
    """Follow a build's output step by step: print a line as each step starts, and keep the
    current step's last lines for a failure message."""

    TAIL_LINES = 15
    STEP_WIDTH = 100  # a step's Dockerfile line is cut here (a RUN can be 20 lines long)

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.step = ""
        self.lines: list[str] = []

    def add(self, text: str) -> None:
        """Take the next piece of the build's output."""
        for line in text.splitlines():
            if line.startswith("Step "):
                self.step, self.lines = self._short(line), []
                say(f"{self.tag}: {self.step}")
            elif line.strip() and not line.startswith(" ---> "):
                self.lines.append(line.rstrip())

    def failure(self, error: str) -> str:
        """Return one message: which step failed, how, and the last lines it printed."""
        code = re.search(r"returned a non-zero code: (\d+)", error)
        how = f"exit code {code[1]}" if code else self._short(error.strip())
        tail = "\n".join(f"  | {line}" for line in self.lines[-self.TAIL_LINES:])
        where = f" at {self.step}" if self.step else ""
        return f"building {self.tag} failed{where} ({how})" + (
            f"; its last lines:\n{tail}" if tail else "")

    def _short(self, line: str) -> str:
        """Return the line with its whitespace collapsed, cut at STEP_WIDTH characters."""
        line = " ".join(line.split())
        return line if len(line) <= self.STEP_WIDTH else line[: self.STEP_WIDTH - 3] + "..."
